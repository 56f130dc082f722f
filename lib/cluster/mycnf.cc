#include "cluster/mycnf.h"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace manage::cluster {

Result<std::string> RenderTemplate(const std::string& tmpl,
                                   const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) {
      return Status::InvalidArgument("unterminated '{{' in template");
    }
    std::string name = tmpl.substr(open + 2, close - open - 2);
    auto it = vars.find(name);
    if (it == vars.end()) {
      return Status::InvalidArgument(
          fmt::format("template placeholder {{{{{}}}}} has no value", name));
    }
    out.append(tmpl, pos, open - pos);
    out += it->second;
    pos = close + 2;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

std::map<std::string, std::string> MyCnfVars(const Config& config, uint32_t server_id) {
  const MySqlSettings& m = config.mysql;
  std::string run_dir = m.socket.substr(0, m.socket.rfind('/'));
  return {
      {"SERVER_ID", std::to_string(server_id)},
      {"REPORT_HOST", config.address},
      {"BIND_ADDRESS", m.bind_address},
      {"PORT", std::to_string(m.port)},
      {"SOCKET", m.socket},
      {"DATADIR", m.datadir},
      {"BUFFER_POOL_MB", std::to_string(m.buffer_pool_mb)},
      {"OS_USER", m.os_user},
      {"PID_FILE", run_dir + "/mysqld.pid"},
      {"LOG_ERROR", m.datadir + "/mysqld.err"},
      {"TMPDIR", m.tmpdir},
  };
}

uint32_t ServerIdFromAddress(const std::string& ipv4) {
  in_addr a{};
  if (inet_pton(AF_INET, ipv4.c_str(), &a) != 1) return 1;
  uint32_t id = ntohl(a.s_addr);
  return id == 0 ? 1 : id;
}

}  // namespace manage::cluster
