// Writes xbstream by its published layout, for XbstreamChecker's tests.
#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

namespace manage::backup {
namespace {

void Le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Header(std::string& out, char type, const std::string& path) {
  out += "XBSTCK01";
  out.push_back('\0');
  out.push_back(type);
  Le(out, path.size(), 4);
  out += path;
}

}  // namespace

std::string Xbstream(const std::vector<std::pair<std::string, std::string>>& files, size_t chunk) {
  std::string out;
  for (const auto& [path, content] : files) {
    for (size_t at = 0; at < content.size(); at += chunk) {
      std::string payload = content.substr(at, chunk);
      Header(out, 'P', path);
      Le(out, payload.size(), 8);
      Le(out, at, 8);
      Le(out,
         crc32(0L, reinterpret_cast<const Bytef*>(payload.data()),
               static_cast<uInt>(payload.size())),
         4);
      out += payload;
    }
    Header(out, 'E', path);
  }
  return out;
}

}  // namespace manage::backup
