#include "core/config.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cctype>

namespace manage {
namespace {

bool IsIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

// ContainerPilot's rule for job names: ^[a-z][a-zA-Z0-9-]+$
bool IsValidServiceName(const std::string& s) {
  if (s.size() < 2 || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

void ReadMySql(EnvReader& r, const HostFacts& host, MySqlSettings& m) {
  m.user = r.String("MYSQL_USER");
  m.password = r.String("MYSQL_PASSWORD");
  m.database = r.String("MYSQL_DATABASE");
  m.repl_user = r.String("MYSQL_REPL_USER");
  m.repl_password = r.String("MYSQL_REPL_PASSWORD");
  m.root_password = r.String("MYSQL_ROOT_PASSWORD");
  m.random_root_password = r.Flag("MYSQL_RANDOM_ROOT_PASSWORD", true);
  m.onetime_password = r.Flag("MYSQL_ONETIME_PASSWORD", false);
  m.datadir = r.String("MYSQL_DATADIR", m.datadir);
  int64_t default_pool = std::max<int64_t>(host.memory_mb * 7 / 10, 128);
  m.buffer_pool_mb = r.Int("INNODB_BUFFER_POOL_SIZE", default_pool, 5, 1 << 24);
  m.socket = r.String("MYSQL_SOCKET", m.socket);
  m.port = static_cast<int>(r.Int("MYSQL_PORT", m.port, 1, 65535));
  m.bind_address = r.String("MYSQL_BIND_ADDRESS", m.bind_address);
  m.cnf_path = r.String("MYSQL_CNF", m.cnf_path);
  m.cnf_template = r.String("MYSQL_CNF_TEMPLATE", m.cnf_template);
  m.os_user = r.String("MYSQL_OS_USER", m.os_user);
  m.tmpdir = r.String("MYSQL_TMPDIR", m.tmpdir);
  if (m.user.empty() != m.password.empty()) {
    r.Fail(m.user.empty() ? "MYSQL_USER" : "MYSQL_PASSWORD",
           "MYSQL_USER and MYSQL_PASSWORD must be set together");
  }
  if (m.repl_user.empty() != m.repl_password.empty()) {
    r.Fail(m.repl_user.empty() ? "MYSQL_REPL_USER" : "MYSQL_REPL_PASSWORD",
           "MYSQL_REPL_USER and MYSQL_REPL_PASSWORD must be set together");
  }
  if (m.datadir.empty() || m.datadir[0] != '/') {
    r.Fail("MYSQL_DATADIR", fmt::format("'{}' is not an absolute path", m.datadir));
  }
}

void ReadSnapshot(EnvReader& r, SnapshotSettings& s) {
  std::string backend = r.Has("SNAPSHOT_BACKEND") ? r.String("SNAPSHOT_BACKEND")
                                                  : r.String("BACKUP_DRIVER", s.backend);
  for (char& c : backend) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (backend == "minio") backend = "s3";
  if (backend != "manta" && backend != "s3" && backend != "local") {
    r.Fail(r.Has("SNAPSHOT_BACKEND") ? "SNAPSHOT_BACKEND" : "BACKUP_DRIVER",
           fmt::format("'{}' is not one of manta, s3, minio, local", backend));
  }
  s.backend = backend;
  s.backup_name =
      r.String("BACKUP_NAME", r.String("SERVICE_NAME", "mysql") + "-backup-%Y-%m-%dT%H-%M-%SZ");
  s.backup_ttl = std::chrono::seconds(r.Int("BACKUP_TTL", s.backup_ttl.count(), 1, 1LL << 40));
  s.storage_dir = r.String("STORAGE_DIR", s.storage_dir);
  s.wait_timeout =
      std::chrono::seconds(r.Int("SNAPSHOT_WAIT_TIMEOUT", s.wait_timeout.count(), 0, 7 * 86400));
}

void ReadIdentity(EnvReader& r, const HostFacts& host, Config& c) {
  c.service_name = r.String("SERVICE_NAME", c.service_name);
  if (!IsValidServiceName(c.service_name)) {
    r.Fail("SERVICE_NAME",
           fmt::format(
               "'{}' must start with a lower-case letter and hold only letters, digits and '-'",
               c.service_name));
  }
  c.primary_service = c.service_name + "-primary";
  c.hostname = r.String("HOSTNAME_OVERRIDE", host.hostname);
  std::string cp_ip = r.String(ContainerPilotIpVariable(c.service_name));
  c.address = r.String("NODE_IP", cp_ip.empty() ? host.first_ipv4 : cp_ip);
  if (c.address.empty()) {
    r.Fail("NODE_IP", "no address to advertise: set NODE_IP (no non-loopback IPv4 found)");
  } else if (!IsIpv4(c.address)) {
    r.Fail("NODE_IP", fmt::format("'{}' is not an IPv4 address", c.address));
  }
  c.state_dir = r.String("MANAGE_STATE_DIR", c.state_dir);
}

void ReadFailover(EnvReader& r, const std::string& svc, const std::string& primary_key,
                  FailoverSettings& f) {
  // Under PRIMARY_KEY, so that one recursive read returns both.
  f.lock_key = r.String("FAILOVER_LOCK_KEY", primary_key + "/failover");
  f.history_key = r.String("FAILOVER_HISTORY_KEY", svc + "-failover-history");
  f.priority = static_cast<int>(r.Int("FAILOVER_PRIORITY", f.priority, -1000, 1000));
  f.no_failover = r.Flag("NO_FAILOVER", false);
  f.max_lag = std::chrono::seconds(r.Int("MAX_FAILOVER_LAG", f.max_lag.count(), 0, 3600));
  f.cooldown = std::chrono::seconds(r.Int("FAILOVER_COOLDOWN", f.cooldown.count(), 0, 86400));
  std::string policy = r.String("ERRANT_POLICY", "refuse");
  if (policy == "refuse") {
    f.errant_policy = ErrantPolicy::kRefuse;
  } else if (policy == "reclone") {
    f.errant_policy = ErrantPolicy::kReclone;
  } else {
    r.Fail("ERRANT_POLICY", fmt::format("'{}': use refuse or reclone", policy));
  }
  f.semi_sync = r.Flag("SEMI_SYNC", false);
  f.semi_sync_timeout =
      std::chrono::seconds(r.Int("SEMI_SYNC_TIMEOUT", f.semi_sync_timeout.count(), 1, 30 * 86400));
}

// containerpilot.json5's reading of the same environment: its template sees
// raw values (no comment stripping), and its flags match a fixed list.
void ReadContainerPilot(EnvReader& r, const Config& c, ContainerPilotSettings& cp) {
  cp.health_interval =
      std::chrono::seconds(r.Int("HEALTH_INTERVAL", cp.health_interval.count(), 1, 3600));
  cp.primary_health_interval =
      std::chrono::seconds(r.Int("PRIMARY_HEALTH_INTERVAL", cp.health_interval.count(), 1, 3600));
  cp.health_ttl = std::chrono::seconds(r.Int("HEALTH_TTL", cp.health_ttl.count(), 1, 86400));
  cp.primary_health_ttl =
      std::chrono::seconds(r.Int("PRIMARY_HEALTH_TTL", cp.health_ttl.count(), 1, 86400));
  cp.service_address = r.Raw(ContainerPilotIpVariable(c.service_name));
  if (cp.service_address.empty()) cp.service_address = c.address;
  cp.primary_address = r.Raw(ContainerPilotIpVariable(c.primary_service));
  if (cp.primary_address.empty()) cp.primary_address = cp.service_address;
  std::string priority = r.Raw("FAILOVER_PRIORITY");
  cp.service_tags = {"failover-priority=" + (priority.empty() ? std::string("0") : priority)};
  const std::string no_failover = r.Raw("NO_FAILOVER");
  for (const char* on : {"1", "yes", "true", "on", "Yes", "True", "On", "YES", "TRUE", "ON"}) {
    if (no_failover == on) cp.service_tags.push_back("no-failover");
  }
}

}  // namespace

std::string ContainerPilotIpVariable(const std::string& job_name) {
  std::string out = "CONTAINERPILOT_";
  for (char c : job_name) {
    out += (c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out + "_IP";
}

Result<Config> LoadConfig(const Env& env, const HostFacts& host) {
  Config c;
  c.env = env;
  EnvReader r(c.env);
  ReadIdentity(r, host, c);
  ReadMySql(r, host, c.mysql);
  ReadSnapshot(r, c.snapshot);
  const std::string& svc = c.service_name;
  c.keys.primary_key = r.String("PRIMARY_KEY", svc + "-primary");
  c.keys.last_backup_key = r.String("LAST_BACKUP_KEY", svc + "-last-backup");
  c.keys.last_binlog_key = r.String("LAST_BINLOG_KEY", svc + "-last-binlog");
  c.keys.backup_lock_key = r.String("BACKUP_LOCK_KEY", svc + "-backup-running");
  c.keys.session_name = r.String("SESSION_NAME", svc + "-primary-lock");
  c.session_ttl = std::chrono::seconds(r.Int("SESSION_TTL", c.session_ttl.count(), 10, 86400));
  c.lock_delay = std::chrono::seconds(r.Int("SESSION_LOCK_DELAY", c.lock_delay.count(), 0, 60));
  c.max_replica_lag =
      std::chrono::seconds(r.Int("MAX_REPLICA_LAG", c.max_replica_lag.count(), 0, 86400));
  ReadFailover(r, svc, c.keys.primary_key, c.failover);
  ReadContainerPilot(r, c, c.containerpilot);
  c.consul_agent = r.Flag("CONSUL_AGENT", false);
  auto level = ParseLogLevel(r.String("LOG_LEVEL", "INFO"));
  if (level.ok()) {
    c.log_level = *level;
  } else {
    r.Fail("LOG_LEVEL", level.status().message());
  }
  std::string format = r.String("LOG_FORMAT", "text");
  if (format != "text" && format != "json") r.Fail("LOG_FORMAT", "use text or json");
  c.log_json = format == "json";
  MANAGE_RETURN_IF_ERROR(r.status());
  return c;
}

}  // namespace manage
