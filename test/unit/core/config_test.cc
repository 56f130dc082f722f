#include "core/config.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

namespace manage {
namespace {

const HostFacts kHost{"node1", "10.0.0.5", 1000};

TEST_CASE("LoadConfig defaults match the original manage.py") {
  auto c = LoadConfig({}, kHost);
  REQUIRE(c.ok());
  CHECK(c->service_name == "mysql");
  CHECK(c->primary_service == "mysql-primary");
  CHECK(c->keys.primary_key == "mysql-primary");
  CHECK(c->keys.last_backup_key == "mysql-last-backup");
  CHECK(c->keys.last_binlog_key == "mysql-last-binlog");
  CHECK(c->keys.backup_lock_key == "mysql-backup-running");
  CHECK(c->keys.session_name == "mysql-primary-lock");
  // Shorter than the original's 25 s with a 1 s lock-delay: failover in about
  // ten seconds (README, "Fencing: the timing argument").
  CHECK(c->session_ttl == std::chrono::seconds(10));
  CHECK(c->lock_delay == std::chrono::seconds(1));
  CHECK(c->snapshot.backup_ttl == std::chrono::seconds(86400));
  CHECK(c->snapshot.backend == "manta");
  CHECK(c->snapshot.backup_name == "mysql-backup-%Y-%m-%dT%H-%M-%SZ");
  CHECK(c->mysql.datadir == "/var/lib/mysql");
  CHECK(c->mysql.random_root_password);
  CHECK_FALSE(c->mysql.onetime_password);
  CHECK(c->mysql.buffer_pool_mb == 700);
  CHECK(c->address == "10.0.0.5");
  CHECK(c->max_replica_lag == std::chrono::seconds(30));
  CHECK(c->log_level == LogLevel::kInfo);
  CHECK(c->NodeName() == "mysql-node1");
}

TEST_CASE("Failover settings: defaults and values") {
  HostFacts host{"node1", "10.0.0.5", 1024};
  auto c = LoadConfig(Env{}, host);
  REQUIRE(c.ok());
  CHECK(c->failover.lock_key == "mysql-primary/failover");
  CHECK(c->failover.history_key == "mysql-failover-history");
  CHECK(c->failover.priority == 0);
  CHECK_FALSE(c->failover.no_failover);
  CHECK(c->failover.max_lag == std::chrono::seconds(30));
  CHECK(c->failover.cooldown == std::chrono::seconds(300));
  CHECK(c->failover.errant_policy == ErrantPolicy::kRefuse);
  CHECK_FALSE(c->failover.semi_sync);
  CHECK(c->failover.semi_sync_timeout == std::chrono::seconds(86400));

  c = LoadConfig(Env{{"SERVICE_NAME", "db"},
                     {"PRIMARY_KEY", "db-leader"},
                     {"FAILOVER_PRIORITY", "5"},
                     {"NO_FAILOVER", "yes"},
                     {"ERRANT_POLICY", "reclone"},
                     {"SEMI_SYNC", "on"},
                     {"SEMI_SYNC_TIMEOUT", "30"}},
                 host);
  REQUIRE(c.ok());
  CHECK(c->failover.lock_key == "db-leader/failover");
  CHECK(c->failover.history_key == "db-failover-history");
  CHECK(c->failover.priority == 5);
  CHECK(c->failover.no_failover);
  CHECK(c->failover.errant_policy == ErrantPolicy::kReclone);
  auto f = LoadConfig({{"ERRANT_POLICY", "flashback"}}, kHost);
  REQUIRE(f.ok());
  CHECK(f->failover.errant_policy == ErrantPolicy::kFlashback);
  CHECK(c->failover.semi_sync);
  CHECK(c->failover.semi_sync_timeout == std::chrono::seconds(30));
}

TEST_CASE("Keys follow SERVICE_NAME unless set") {
  auto a = LoadConfig({{"SERVICE_NAME", "db"}}, kHost);
  REQUIRE(a.ok());
  CHECK(a->keys.primary_key == "db-primary");
  CHECK(a->keys.last_backup_key == "db-last-backup");
  CHECK(a->keys.last_binlog_key == "db-last-binlog");
  CHECK(a->keys.backup_lock_key == "db-backup-running");
  CHECK(a->keys.session_name == "db-primary-lock");
  CHECK(a->snapshot.backup_name == "db-backup-%Y-%m-%dT%H-%M-%SZ");
  auto b = LoadConfig({{"SERVICE_NAME", "db"}, {"PRIMARY_KEY", "locks/${SERVICE_NAME}"}}, kHost);
  REQUIRE(b.ok());
  CHECK(b->keys.primary_key == "locks/db");
}

TEST_CASE("The advertised address comes from NODE_IP, then ContainerPilot, then the host") {
  auto cp = LoadConfig({{"SERVICE_NAME", "my-db"}, {"CONTAINERPILOT_MY_DB_IP", "10.1.1.1"}}, kHost);
  REQUIRE(cp.ok());
  CHECK(cp->address == "10.1.1.1");
  auto explicit_ip =
      LoadConfig({{"CONTAINERPILOT_MYSQL_IP", "10.1.1.1"}, {"NODE_IP", "127.0.0.3"}}, kHost);
  REQUIRE(explicit_ip.ok());
  CHECK(explicit_ip->address == "127.0.0.3");
}

TEST_CASE("ContainerPilot's settings are read as containerpilot.json5 reads them") {
  auto d = LoadConfig({}, kHost);
  REQUIRE(d.ok());
  CHECK(d->health.interval == std::chrono::seconds(2));
  CHECK(d->health.primary_interval == std::chrono::seconds(2));
  CHECK(d->health.ttl == std::chrono::seconds(7));
  CHECK(d->health.primary_ttl == std::chrono::seconds(7));
  CHECK(d->containerpilot.service_address == "10.0.0.5");
  CHECK(d->containerpilot.primary_address == "10.0.0.5");
  CHECK(d->containerpilot.service_tags == std::vector<std::string>{"failover-priority=0"});
  CHECK_FALSE(d->consul_agent);
  auto c = LoadConfig({{"HEALTH_INTERVAL", "1"},
                       {"HEALTH_TTL", "5"},
                       {"SESSION_LOCK_DELAY", "2"},
                       {"FAILOVER_PRIORITY", "05"},
                       {"NO_FAILOVER", "TRUE"},
                       {"CONSUL_AGENT", "yes"},
                       {"NODE_IP", "10.0.0.9"},
                       {"CONTAINERPILOT_MYSQL_IP", "10.1.1.1"}},
                      kHost);
  REQUIRE(c.ok());
  CHECK(c->health.primary_interval == std::chrono::seconds(1));  // HEALTH_INTERVAL's
  CHECK(c->health.primary_ttl == std::chrono::seconds(5));       // HEALTH_TTL's
  CHECK(c->containerpilot.service_address == "10.1.1.1");        // what ContainerPilot advertises
  CHECK(c->containerpilot.primary_address == "10.1.1.1");
  CHECK(c->containerpilot.service_tags ==
        std::vector<std::string>{"failover-priority=05", "no-failover"});
  CHECK(c->consul_agent);
  // The template's flag list is narrower than manage's own flags.
  auto n = LoadConfig({{"NO_FAILOVER", "tRUE"}}, kHost);
  REQUIRE(n.ok());
  CHECK(n->containerpilot.service_tags == std::vector<std::string>{"failover-priority=0"});
  CHECK(LoadConfig({{"HEALTH_TTL", "0"}}, kHost).status().code() == Code::kInvalidArgument);
}

TEST_CASE("Backend aliases and comments are honoured") {
  auto c = LoadConfig({{"BACKUP_DRIVER", "minio  # S3 compatible"}}, kHost);
  REQUIRE(c.ok());
  CHECK(c->snapshot.backend == "s3");
  auto d = LoadConfig({{"SNAPSHOT_BACKEND", "LOCAL"}, {"BACKUP_DRIVER", "manta"}}, kHost);
  REQUIRE(d.ok());
  CHECK(d->snapshot.backend == "local");
}

TEST_CASE("Secrets: the passwords and the Consul token, for the logger to mask") {
  auto c = LoadConfig({{"MYSQL_USER", "app"},
                       {"MYSQL_PASSWORD", "a-pw"},
                       {"MYSQL_REPL_USER", "repl"},
                       {"MYSQL_REPL_PASSWORD", "r-pw"},
                       {"CONSUL_HTTP_TOKEN", "tok-en"}},
                      kHost);
  REQUIRE(c.ok());
  CHECK(c->Secrets() == std::vector<std::string>{"a-pw", "r-pw", "tok-en"});
}

TEST_CASE("MYSQL_DATABASE is a name, never SQL") {
  for (const char* name : {"appdb", "App_DB$2", "my-db"}) {
    CAPTURE(name);
    CHECK(LoadConfig({{"MYSQL_DATABASE", name}}, kHost).ok());
  }
  for (const char* name : {"a`b", "db; DROP DATABASE x", "db name", "a'b", "a/b", "x.y",
                           "0123456789012345678901234567890123456789012345678901234567890123"
                           "4"}) {
    CAPTURE(name);
    auto c = LoadConfig({{"MYSQL_DATABASE", name}}, kHost);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().rfind("MYSQL_DATABASE:", 0) == 0);
  }
}

TEST_CASE("Passwords keep '#' characters inside them") {
  auto c = LoadConfig({{"MYSQL_USER", "app"}, {"MYSQL_PASSWORD", "s3cr#t"}}, kHost);
  REQUIRE(c.ok());
  CHECK(c->mysql.password == "s3cr#t");
}

TEST_CASE("Invalid values are rejected naming the variable") {
  struct Row {
    Env env;
    const char* variable;
  };
  const std::vector<Row> rows = {
      {{{"SESSION_TTL", "abc"}}, "SESSION_TTL"},
      {{{"SESSION_TTL", "5"}}, "SESSION_TTL"},
      {{{"ERRANT_POLICY", "delete"}}, "ERRANT_POLICY"},
      {{{"FAILOVER_PRIORITY", "high"}}, "FAILOVER_PRIORITY"},
      {{{"NO_FAILOVER", "maybe"}}, "NO_FAILOVER"},
      {{{"SEMI_SYNC", "sometimes"}}, "SEMI_SYNC"},
      {{{"SEMI_SYNC_TIMEOUT", "0"}}, "SEMI_SYNC_TIMEOUT"},
      {{{"MAX_FAILOVER_LAG", "-1"}}, "MAX_FAILOVER_LAG"},
      {{{"FAILOVER_COOLDOWN", "x"}}, "FAILOVER_COOLDOWN"},
      {{{"BACKUP_TTL", "-1"}}, "BACKUP_TTL"},
      {{{"MYSQL_PORT", "70000"}}, "MYSQL_PORT"},
      {{{"MYSQL_RANDOM_ROOT_PASSWORD", "sometimes"}}, "MYSQL_RANDOM_ROOT_PASSWORD"},
      {{{"SNAPSHOT_BACKEND", "ftp"}}, "SNAPSHOT_BACKEND"},
      {{{"BACKUP_DRIVER", "ftp"}}, "BACKUP_DRIVER"},
      {{{"LOG_LEVEL", "LOUD"}}, "LOG_LEVEL"},
      {{{"NODE_IP", "not-an-ip"}}, "NODE_IP"},
      {{{"SERVICE_NAME", "my db"}}, "SERVICE_NAME"},
      {{{"SERVICE_NAME", "my_db"}}, "SERVICE_NAME"},
      {{{"SERVICE_NAME", "Mysql"}}, "SERVICE_NAME"},
      {{{"MYSQL_USER", "app"}}, "MYSQL_PASSWORD"},
      {{{"MYSQL_REPL_PASSWORD", "x"}}, "MYSQL_REPL_USER"},
      {{{"MYSQL_DATADIR", "relative/dir"}}, "MYSQL_DATADIR"},
      {{{"MAX_REPLICA_LAG", "1.5"}}, "MAX_REPLICA_LAG"},
      {{{"INNODB_BUFFER_POOL_SIZE", "lots"}}, "INNODB_BUFFER_POOL_SIZE"},
      {{{"SNAPSHOT_COMPRESSION", "gzip"}}, "SNAPSHOT_COMPRESSION"},
      {{{"SNAPSHOT_COMPRESSION_LEVEL", "20"}}, "SNAPSHOT_COMPRESSION_LEVEL"},
      {{{"SNAPSHOT_COMPRESSION_THREADS", "-1"}}, "SNAPSHOT_COMPRESSION_THREADS"},
      {{{"SNAPSHOT_ENCRYPTION_KEY", "k"}, {"SNAPSHOT_ENCRYPTION_KEY_FILE", "/k"}},
       "SNAPSHOT_ENCRYPTION_KEY"},
      {{{"SNAPSHOT_RETAIN_COUNT", "many"}}, "SNAPSHOT_RETAIN_COUNT"},
      {{{"SNAPSHOT_RETAIN_DAYS", "-2"}}, "SNAPSHOT_RETAIN_DAYS"},
      {{{"HEALTH_INTERVAL", "often"}}, "HEALTH_INTERVAL"},
      {{{"HEALTH_TIMEOUT", "5 seconds"}}, "HEALTH_TIMEOUT"},
      {{{"BINLOG_ARCHIVE", "sometimes"}}, "BINLOG_ARCHIVE"},
      {{{"BINLOG_ARCHIVE_RPO", "0"}}, "BINLOG_ARCHIVE_RPO"},
      {{{"BINLOG_ARCHIVE_SEAL_MB", "0"}}, "BINLOG_ARCHIVE_SEAL_MB"},
      {{{"BINLOG_ARCHIVE_SEAL_INTERVAL", "10"}}, "BINLOG_ARCHIVE_SEAL_INTERVAL"},
      {{{"RESTORE_FROM", "orders"}}, "RESTORE_TO"},
      {{{"RESTORE_TO", "0-1-5"}}, "RESTORE_FROM"},
      {{{"RESTORE_FROM", "Orders_1"}, {"RESTORE_TO", "0-1-5"}}, "RESTORE_FROM"},
  };
  for (const Row& r : rows) {
    INFO(r.variable);
    auto c = LoadConfig(r.env, kHost);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kInvalidArgument);
    CHECK(c.status().message().rfind(std::string(r.variable) + ":", 0) == 0);
  }
}

TEST_CASE("Snapshot content settings: defaults and values") {
  auto d = LoadConfig({}, kHost);
  REQUIRE(d.ok());
  CHECK(d->snapshot.compression_level == 3);
  CHECK(d->snapshot.compression_threads == 0);  // kHost has 1 CPU: none to spare
  for (auto [cpus, threads] : {std::pair{2, 0}, {3, 1}, {6, 4}, {64, 4}}) {
    HostFacts host = kHost;
    host.cpus = cpus;
    CHECK(LoadConfig({}, host)->snapshot.compression_threads == threads);
  }
  CHECK(d->snapshot.encryption_key.empty());
  CHECK(d->snapshot.retain_count == 7);
  CHECK(d->snapshot.retain_days == 0);
  auto c = LoadConfig({{"SNAPSHOT_COMPRESSION", "none"},
                       {"SNAPSHOT_COMPRESSION_LEVEL", "not read when none"},
                       {"SNAPSHOT_ENCRYPTION_KEY", "abc#def $HOME"},
                       {"SNAPSHOT_RETAIN_COUNT", "0"},
                       {"SNAPSHOT_RETAIN_DAYS", "30"}},
                      kHost);
  REQUIRE(c.ok());
  CHECK(c->snapshot.compression_level == 0);
  CHECK(c->snapshot.encryption_key == "abc#def $HOME");  // taken exactly as written
  CHECK(c->snapshot.retain_count == 0);
  CHECK(c->snapshot.retain_days == 30);
  auto z = LoadConfig({{"SNAPSHOT_COMPRESSION_LEVEL", "19"}}, kHost);
  REQUIRE(z.ok());
  CHECK(z->snapshot.compression_level == 19);
}

TEST_CASE("Timing that breaks the fencing argument is refused at start") {
  struct Row {
    const char* name;
    Env env;
    const char* refused;  // "" when accepted
  };
  const std::vector<Row> rows = {
      {"the shipped defaults: 7 + 1 > 2 + 2.5 + 3", {}, ""},
      {"the tests' fast timing: 5 + 2 > 1 + 2.5 + 3",
       {{"HEALTH_INTERVAL", "1"}, {"HEALTH_TTL", "5"}, {"SESSION_LOCK_DELAY", "2"}},
       ""},
      {"a TTL too short for the interval", {{"HEALTH_TTL", "6"}}, "HEALTH_TTL"},
      {"an interval too long for the TTL", {{"HEALTH_INTERVAL", "2.6"}}, "HEALTH_TTL"},
      {"no lock-delay: 7 + 0 < 2 + 2.5 + 3", {{"SESSION_LOCK_DELAY", "0"}}, "HEALTH_TTL"},
      {"a longer TTL makes room", {{"HEALTH_INTERVAL", "5"}, {"HEALTH_TTL", "20"}}, ""},
      {"a pass may outlast a short interval: 5 + 1 < 1 + max(1, 2.5) + 3 (> 2x1 + 3)",
       {{"HEALTH_INTERVAL", "1"}, {"HEALTH_TTL", "5"}},
       "HEALTH_TTL"},
      {"the -primary check's interval counts too: 7 + 1 = 2.5 + 2.5 + 3",
       {{"PRIMARY_HEALTH_INTERVAL", "2.5"}},
       "HEALTH_TTL"},
      {"a session that outlives the next pass's fence: 10 + 1 > 5 + 3",
       {{"HEALTH_INTERVAL", "5"}, {"HEALTH_TTL", "20"}, {"SESSION_TTL", "10"}},
       ""},
      {"a session that does not: 10 + 1 = 8 + 3",
       {{"HEALTH_INTERVAL", "8"}, {"HEALTH_TTL", "30"}},
       "SESSION_TTL"},
      {"ContainerPilot kills the pass before it fences",
       {{"HEALTH_TIMEOUT", "3s"}},
       "HEALTH_TIMEOUT"},
      {"a timeout in milliseconds", {{"HEALTH_TIMEOUT", "4500ms"}}, ""},
      {"a timeout in minutes and seconds", {{"HEALTH_TIMEOUT", "1m30s"}}, ""},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    auto c = LoadConfig(r.env, kHost);
    if (*r.refused == '\0') {
      REQUIRE(c.ok());
      continue;
    }
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kInvalidArgument);
    CHECK(c.status().message().rfind(std::string(r.refused) + ":", 0) == 0);
  }
  auto d = LoadConfig({{"HEALTH_TIMEOUT", "1m30s"}, {"HEALTH_INTERVAL", "1.5"}}, kHost);
  REQUIRE(d.ok());
  CHECK(d->health.timeout == std::chrono::seconds(90));
  CHECK(d->health.interval == std::chrono::milliseconds(1500));
  CHECK(d->health.ttl == std::chrono::seconds(7));
}

TEST_CASE("Serve settings: defaults follow mysqld's bind address; bad values are refused") {
  auto c = LoadConfig({}, kHost);
  REQUIRE(c.ok());
  CHECK(c->serve.address == "0.0.0.0");
  CHECK(c->serve.port == 8008);
  c = LoadConfig({{"MYSQL_BIND_ADDRESS", "10.0.0.5"}}, kHost);
  REQUIRE(c.ok());
  CHECK(c->serve.address == "10.0.0.5");
  c = LoadConfig(
      {{"MYSQL_BIND_ADDRESS", "10.0.0.5"}, {"SERVE_ADDRESS", "::"}, {"SERVE_PORT", "9000"}}, kHost);
  REQUIRE(c.ok());
  CHECK(c->serve.address == "::");
  CHECK(c->serve.port == 9000);
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"SERVE_PORT", "0"}, {"SERVE_PORT", "70000"}, {"SERVE_PORT", "http"}}) {
    CAPTURE(name, value);
    auto bad = LoadConfig({{name, value}}, kHost);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.status().message(), Catch::Contains(name));
  }
}

TEST_CASE("Binlog archive settings: defaults and values") {
  auto d = LoadConfig({}, kHost);
  REQUIRE(d.ok());
  CHECK(d->archive.enabled);
  CHECK(d->archive.rpo == std::chrono::seconds(10));
  CHECK(d->archive.seal_mb == 64);
  CHECK(d->archive.seal_interval == std::chrono::seconds(3600));
  CHECK(d->keys.archive_key == "mysql-binlog-archive");
  CHECK(d->archive.restore_from.empty());
  auto c = LoadConfig({{"SERVICE_NAME", "orders"},
                       {"BINLOG_ARCHIVE", "no"},
                       {"BINLOG_ARCHIVE_RPO", "30"},
                       {"BINLOG_ARCHIVE_SEAL_MB", "16"},
                       {"BINLOG_ARCHIVE_SEAL_INTERVAL", "600"},
                       {"RESTORE_FROM", "orders-old"},
                       {"RESTORE_TO", "2026-11-29T14:03:17Z"}},
                      kHost);
  REQUIRE(c.ok());
  CHECK_FALSE(c->archive.enabled);
  CHECK(c->archive.rpo == std::chrono::seconds(30));
  CHECK(c->archive.seal_mb == 16);
  CHECK(c->archive.seal_interval == std::chrono::seconds(600));
  CHECK(c->keys.archive_key == "orders-binlog-archive");
  CHECK(c->archive.restore_from == "orders-old");
  CHECK(c->archive.restore_to == "2026-11-29T14:03:17Z");
}

TEST_CASE("A host without an address needs NODE_IP") {
  auto c = LoadConfig({}, HostFacts{"n", "", 1000});
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("NODE_IP") == 0);
}

TEST_CASE("ContainerPilotIpVariable upper-cases and replaces dashes") {
  CHECK(ContainerPilotIpVariable("mysql") == "CONTAINERPILOT_MYSQL_IP");
  CHECK(ContainerPilotIpVariable("my-db-primary") == "CONTAINERPILOT_MY_DB_PRIMARY_IP");
}

}  // namespace
}  // namespace manage
