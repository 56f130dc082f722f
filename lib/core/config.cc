#include "core/config.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

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

// A schema name that needs no quoting beyond backticks: it is written into
// SQL (CREATE DATABASE, GRANT) and must never carry SQL of its own.
bool IsPlainIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$' && c != '-') {
      return false;
    }
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
  if (!m.database.empty() && !IsPlainIdentifier(m.database)) {
    r.Fail("MYSQL_DATABASE",
           fmt::format("'{}' must be 1 to 64 letters, digits, '_', '$' or '-'", m.database));
  }
  if (m.datadir.empty() || m.datadir[0] != '/') {
    r.Fail("MYSQL_DATADIR", fmt::format("'{}' is not an absolute path", m.datadir));
  }
}

void ReadSnapshot(EnvReader& r, const HostFacts& host, SnapshotSettings& s) {
  std::string backend = SnapshotBackendAsGiven(r);
  if (backend == "minio") backend = "s3";
  if (backend != "manta" && backend != "s3" && backend != "local") {
    r.Fail(r.Has("SNAPSHOT_BACKEND") ? "SNAPSHOT_BACKEND" : "BACKUP_DRIVER",
           fmt::format("'{}' is not one of manta, s3, minio, local", backend));
  }
  s.backend = backend;
  s.backup_name =
      r.String("BACKUP_NAME", r.String("SERVICE_NAME", "mysql") + "-backup-%Y-%m-%dT%H-%M-%SZ");
  s.backup_ttl = std::chrono::seconds(r.Int("BACKUP_TTL", s.backup_ttl.count(), 1, 1LL << 40));
  s.wait_timeout =
      std::chrono::seconds(r.Int("SNAPSHOT_WAIT_TIMEOUT", s.wait_timeout.count(), 0, 7 * 86400));
  std::string compression = r.String("SNAPSHOT_COMPRESSION", "zstd");
  if (compression == "none") {
    s.compression_level = 0;
  } else if (compression == "zstd") {
    s.compression_level =
        static_cast<int>(r.Int("SNAPSHOT_COMPRESSION_LEVEL", s.compression_level, 1, 19));
  } else {
    r.Fail("SNAPSHOT_COMPRESSION", fmt::format("'{}': use zstd or none", compression));
  }
  const int spare_cpus = std::clamp(host.cpus - 2, 0, 4);
  s.compression_threads =
      static_cast<int>(r.Int("SNAPSHOT_COMPRESSION_THREADS", spare_cpus, 0, 64));
  // Raw: a key is taken exactly as written (no comment stripping or expansion).
  s.encryption_key = r.Raw("SNAPSHOT_ENCRYPTION_KEY");
  s.encryption_key_file = r.String("SNAPSHOT_ENCRYPTION_KEY_FILE");
  if (!s.encryption_key.empty() && !s.encryption_key_file.empty()) {
    r.Fail("SNAPSHOT_ENCRYPTION_KEY", "set it or SNAPSHOT_ENCRYPTION_KEY_FILE, not both");
  }
  s.retain_count = static_cast<int>(r.Int("SNAPSHOT_RETAIN_COUNT", s.retain_count, 0, 100000));
  s.retain_days = static_cast<int>(r.Int("SNAPSHOT_RETAIN_DAYS", s.retain_days, 0, 36500));
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
  } else if (policy == "flashback") {
    f.errant_policy = ErrantPolicy::kFlashback;
  } else {
    r.Fail("ERRANT_POLICY", fmt::format("'{}': use refuse, reclone or flashback", policy));
  }
  f.semi_sync = r.Flag("SEMI_SYNC", false);
  f.semi_sync_timeout =
      std::chrono::seconds(r.Int("SEMI_SYNC_TIMEOUT", f.semi_sync_timeout.count(), 1, 30 * 86400));
}

// A number of seconds, as ContainerPilot's interval and ttl take them.
std::chrono::milliseconds Seconds(EnvReader& r, const std::string& name,
                                  std::chrono::milliseconds fallback) {
  std::string v = r.String(name);
  if (v.empty()) return fallback;
  double s = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
  if (ec != std::errc() || ptr != v.data() + v.size() || !(s > 0) || s > 86400) {
    r.Fail(name, fmt::format("'{}' is not a number of seconds", v));
    return fallback;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

// A Go duration as ContainerPilot's timeout takes it: "5s", "1500ms", "1m30s".
std::chrono::milliseconds GoDuration(EnvReader& r, const std::string& name,
                                     std::chrono::milliseconds fallback) {
  std::string v = r.String(name);
  if (v.empty()) return fallback;
  double total_ms = 0;
  std::string_view rest = v;
  while (!rest.empty()) {
    double n = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc()) break;
    rest.remove_prefix(static_cast<size_t>(ptr - rest.data()));
    double unit = 0;
    for (auto [suffix, ms] : {std::pair{"ms", 1.0}, {"s", 1000.0}, {"m", 60000.0}, {"h", 3.6e6}}) {
      if (rest.rfind(suffix, 0) == 0) {
        unit = ms;
        rest.remove_prefix(std::string_view(suffix).size());
        break;
      }
    }
    if (unit == 0) break;
    total_ms += n * unit;
    if (rest.empty()) return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
  }
  r.Fail(name, fmt::format("'{}' is not a duration such as 5s or 1500ms", v));
  return fallback;
}

// Fencing comes first only while the timing argument holds (README, "Fencing:
// the timing argument"), and a pass must reach its fence before ContainerPilot
// kills it. I is the longer of the two jobs' intervals, P the longest pass
// that does not fence (kPassBound), H the longest to a fence (kFenceBound):
//   T + D > I + max(I, P) + H   ContainerPilot's last heartbeat came after the
//                               pass before (>= start - I), the next pass
//                               starts by max(I, P) and fences within H;
//   S + D > max(I, P) + H       the session renewed in the pass lives S.
void ReadHealthTiming(EnvReader& r, const Config& c, HealthTiming& h) {
  using std::chrono::milliseconds;
  h.interval = Seconds(r, "HEALTH_INTERVAL", h.interval);
  h.ttl = Seconds(r, "HEALTH_TTL", h.ttl);
  h.timeout = GoDuration(r, "HEALTH_TIMEOUT", h.timeout);
  h.primary_interval = Seconds(r, "PRIMARY_HEALTH_INTERVAL", h.interval);
  h.primary_ttl = Seconds(r, "PRIMARY_HEALTH_TTL", h.ttl);
  auto ms = [](milliseconds d) { return fmt::format("{:g}", d.count() / 1000.0); };
  const milliseconds lock_delay = c.lock_delay;
  const milliseconds i = h.Interval();
  const milliseconds next = std::max(i, kPassBound);
  if (h.ttl + lock_delay <= i + next + kFenceBound) {
    r.Fail("HEALTH_TTL",
           fmt::format("HEALTH_TTL={}s + SESSION_LOCK_DELAY={}s must exceed the health "
                       "interval {}s + the longest a pass may delay the next, {}s, + {}s (the "
                       "longest a health pass takes to fence itself): otherwise a primary that "
                       "lost its lock can still take writes when another node is promoted",
                       ms(h.ttl), ms(lock_delay), ms(i), ms(next), ms(kFenceBound)));
  }
  if (c.session_ttl + lock_delay <= next + kFenceBound) {
    r.Fail("SESSION_TTL",
           fmt::format("SESSION_TTL={}s + SESSION_LOCK_DELAY={}s must exceed {}s + {}s (the next "
                       "pass's start and fence): otherwise the session of a primary that stops "
                       "renewing it can expire before the primary fences itself",
                       ms(c.session_ttl), ms(lock_delay), ms(next), ms(kFenceBound)));
  }
  if (h.timeout <= kFenceBound) {
    r.Fail("HEALTH_TIMEOUT",
           fmt::format("{}s: must exceed {}s, the longest a health pass takes to fence itself",
                       ms(h.timeout), ms(kFenceBound)));
  }
}

void ReadArchive(EnvReader& r, ArchiveSettings& a) {
  a.enabled = r.Flag("BINLOG_ARCHIVE", a.enabled);
  a.rpo = std::chrono::seconds(r.Int("BINLOG_ARCHIVE_RPO", a.rpo.count(), 1, 3600));
  a.seal_mb = r.Int("BINLOG_ARCHIVE_SEAL_MB", a.seal_mb, 1, 4096);
  a.seal_interval = std::chrono::seconds(
      r.Int("BINLOG_ARCHIVE_SEAL_INTERVAL", a.seal_interval.count(), 60, 7 * 86400));
  a.restore_from = r.String("RESTORE_FROM");
  a.restore_to = r.String("RESTORE_TO");
  if (a.restore_from.empty() != a.restore_to.empty()) {
    r.Fail(a.restore_from.empty() ? "RESTORE_FROM" : "RESTORE_TO",
           "RESTORE_FROM and RESTORE_TO must be set together");
  } else if (!a.restore_from.empty() && !IsValidServiceName(a.restore_from)) {
    r.Fail("RESTORE_FROM", fmt::format("'{}' is not a SERVICE_NAME", a.restore_from));
  }
}

// containerpilot.json5's reading of the same environment for the services it
// registers: its template sees raw values (no comment stripping), and its
// flags match a fixed list.
void ReadContainerPilotServices(EnvReader& r, const Config& c, ContainerPilotServices& cp) {
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

std::string SnapshotBackendAsGiven(const EnvReader& r) {
  std::string backend =
      r.Has("SNAPSHOT_BACKEND") ? r.String("SNAPSHOT_BACKEND") : r.String("BACKUP_DRIVER", "manta");
  for (char& c : backend) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return backend;
}

std::vector<std::string> Config::Secrets() const {
  std::vector<std::string> out;
  for (const std::string& s :
       {mysql.password, mysql.repl_password, mysql.root_password, snapshot.encryption_key}) {
    if (!s.empty()) out.push_back(s);
  }
  // Tokens and object-store credentials, read from the environment as given.
  for (const char* name : {"CONSUL_HTTP_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "MINIO_SECRET_KEY", "MANTA_PRIVATE_KEY"}) {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) out.push_back(it->second);
  }
  return out;
}

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
  ReadSnapshot(r, host, c.snapshot);
  const std::string& svc = c.service_name;
  c.keys.primary_key = r.String("PRIMARY_KEY", svc + "-primary");
  c.keys.last_backup_key = r.String("LAST_BACKUP_KEY", svc + "-last-backup");
  c.keys.last_binlog_key = r.String("LAST_BINLOG_KEY", svc + "-last-binlog");
  c.keys.backup_lock_key = r.String("BACKUP_LOCK_KEY", svc + "-backup-running");
  c.keys.session_name = r.String("SESSION_NAME", svc + "-primary-lock");
  c.keys.archive_key = r.String("BINLOG_ARCHIVE_KEY", svc + "-binlog-archive");
  c.session_ttl = std::chrono::seconds(r.Int("SESSION_TTL", c.session_ttl.count(), 10, 86400));
  c.lock_delay = std::chrono::seconds(r.Int("SESSION_LOCK_DELAY", c.lock_delay.count(), 0, 60));
  c.max_replica_lag =
      std::chrono::seconds(r.Int("MAX_REPLICA_LAG", c.max_replica_lag.count(), 0, 86400));
  ReadFailover(r, svc, c.keys.primary_key, c.failover);
  ReadHealthTiming(r, c, c.health);
  ReadContainerPilotServices(r, c, c.containerpilot);
  c.consul_agent = r.Flag("CONSUL_AGENT", false);
  c.serve.address = r.String("SERVE_ADDRESS", c.mysql.bind_address);
  c.serve.port = static_cast<int>(r.Int("SERVE_PORT", c.serve.port, 1, 65535));
  ReadArchive(r, c.archive);
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
