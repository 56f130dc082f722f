// HookFixture: a Config loaded with LoadConfig from a test environment and a
// Deps wired to in-memory fakes, so each hook can be driven one pass at a time.
// This node is kNode (10.0.0.11) on Consul agent "node1"; kOther (10.0.0.12) is
// a second node on agent "node2". The state dir is a real temporary directory,
// because replication is serialised with flock(2) on a file in it; the fake
// filesystem holds the same path for everything else. Not thread-safe.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/lease.h"
#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "core/config.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_consul.h"
#include "fakes/fake_fs.h"
#include "fakes/fake_mysql.h"
#include "fakes/fake_process.h"
#include "fakes/fake_store.h"
#include "hooks/deps.h"
#include "hooks/hooks.h"
#include "unit/sys/temp_dir.h"

namespace manage::hooks {

inline constexpr char kNode[] = "mysql-n1";
inline constexpr char kAddress[] = "10.0.0.11";
inline constexpr char kOther[] = "mysql-n2";
inline constexpr char kOtherAddress[] = "10.0.0.12";
inline constexpr char kAppPassword[] = "app-Secret-1";
inline constexpr char kReplPassword[] = "repl-Secret-2";
inline constexpr char kRootPassword[] = "root-Secret-3";

// What CHANGE MASTER looks like for a source at `host`:3306.
inline std::string ChangeMasterTo(const std::string& host) {
  return "CHANGE MASTER TO MASTER_HOST='" + host +
         "', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='" + kReplPassword +
         "', MASTER_CONNECT_RETRY=10, MASTER_USE_GTID=slave_pos";
}

// A configured replica of `host`:3306 with both threads in `state`.
inline mysql::ReplicaStatus ReplicaOf(const std::string& host,
                                      mysql::ThreadState state = mysql::ThreadState::kYes,
                                      std::optional<int64_t> lag = 0) {
  mysql::ReplicaStatus s;
  s.configured = true;
  s.source_host = host;
  s.source_port = 3306;
  s.io_running = state;
  s.sql_running = state;
  s.seconds_behind = state == mysql::ThreadState::kYes ? lag : std::nullopt;
  return s;
}

class HookFixture {
 public:
  // `overrides` are added to (or replace) the base environment.
  explicit HookFixture(const Env& overrides = {}) {
    REQUIRE_FALSE(tmp.path().empty());
    Env env = {
        {"NODE_IP", kAddress},
        {"MYSQL_USER", "app"},
        {"MYSQL_PASSWORD", kAppPassword},
        {"MYSQL_DATABASE", "appdb"},
        {"MYSQL_REPL_USER", "repl"},
        {"MYSQL_REPL_PASSWORD", kReplPassword},
        {"MYSQL_ROOT_PASSWORD", kRootPassword},
        {"MANAGE_STATE_DIR", tmp.path()},
        {"SNAPSHOT_BACKEND", "local"},
    };
    for (const auto& [name, value] : overrides) env[name] = value;
    auto loaded = LoadConfig(env, HostFacts{"n1", "", 4096});
    REQUIRE(loaded.ok());
    config = *loaded;
    fs.AddDir(config.state_dir);
    dialect = *mysql::DetectDialect(db().server_version());
    ScriptGtid("0-1-5", "0-1-5");
    deps.config = &config;
    deps.log =
        Logger([this](const std::string& line) { logs.push_back(line); }, LogLevel::kDebug, false);
    deps.consul = &consul;
    deps.connector = &connector;
    deps.runner = &runner;
    deps.fs = &fs;
    deps.clock = &clock;
    deps.open_store = [this]() -> Result<storage::ObjectStore*> {
      if (!store_unavailable.ok()) return store_unavailable;
      return &store;
    };
    deps.open_archive =
        [this](const std::string& service) -> Result<std::unique_ptr<storage::ObjectStore>> {
      archive_services.push_back(service);
      return std::unique_ptr<storage::ObjectStore>(new storage::BorrowedStore(&archive));
    };
    deps.spawn_detached = [this](const std::vector<std::string>& argv) {
      spawned.push_back(argv);
      return Status::Ok();
    };
    deps.out = [this](std::string_view text) { printed.append(text); };
  }
  HookFixture(const HookFixture&) = delete;
  HookFixture& operator=(const HookFixture&) = delete;

  mysql::FakeMySql& db() { return connector.server(); }
  cluster::NodeState state() { return cluster::NodeState(&fs, config.state_dir); }
  std::string StatePath(const std::string& name) { return state().Path(name); }

  // ---- Local mysqld.

  void ScriptReadOnly(bool on, int times = mysql::FakeMySql::kForever) {
    db().Reply("SELECT @@GLOBAL.read_only", mysql::OneValue("@@GLOBAL.read_only", on ? "1" : "0"),
               times);
  }
  // The GTID state every server reports (this node and, through the same fake,
  // the node it checks for errant transactions against).
  void ScriptGtid(const std::string& current, const std::string& binlog_state,
                  int times = mysql::FakeMySql::kForever) {
    db().Reply(
        mysql::ReadGtidStateSql(dialect),
        mysql::MakeResult({"executed", "binlog_pos", "slave_pos"}, {{current, current, current}}),
        times);
    db().Reply("SELECT @@GLOBAL.gtid_binlog_state AS s", mysql::OneValue("s", binlog_state), times);
  }
  void ScriptReplica(const mysql::ReplicaStatus& s, int times = mysql::FakeMySql::kForever) {
    db().Reply("SHOW SLAVE STATUS", mysql::ReplicaStatusResult(dialect, s), times);
  }
  // Every statement that changes the server, in order: not a SELECT, SHOW,
  // SET SESSION, or the write lease every primary pass renews.
  std::vector<std::string> Writes() {
    std::vector<std::string> out;
    for (const std::string& s : db().statements()) {
      if (!s.starts_with("SELECT") && !s.starts_with("SHOW") && !s.starts_with("SET SESSION") &&
          !s.starts_with("SET GLOBAL init_connect")) {
        out.push_back(s);
      }
    }
    return out;
  }

  // ---- Consul.

  // Registers kNode (agent node1) or kOther (agent node2) with a passing check.
  void RegisterSelf(bool passing = true) {
    consul.RegisterService({kNode, "mysql", "node1", kAddress, 3306, {}, passing});
  }
  void RegisterOther() {
    consul.RegisterService({kOther, "mysql", "node2", kOtherAddress, 3306, {}, true});
  }
  // This node holds PRIMARY_KEY with a session made as PrimaryLock makes it,
  // and has that session in its state dir. Returns the session ID.
  std::string HoldLockHere() {
    RegisterSelf();
    auto state_now = state();
    cluster::PrimaryLock lock(&config, &consul, &state_now);
    auto id = consul.CreateSession(lock.Spec());
    REQUIRE(id.ok());
    REQUIRE(*consul.Acquire(config.keys.primary_key, *id, kNode));
    REQUIRE(state_now.SetSession(*id).ok());
    return *id;
  }
  // A session on agent `agent` (TTL 25 s, lock-delay 15 s) holds PRIMARY_KEY
  // with value `value`. Returns the session ID.
  std::string GiveLockTo(const std::string& value, const std::string& agent = "node2") {
    auto client = consul.AgentOn(agent);
    consul::SessionSpec spec{"mysql-primary-lock", std::chrono::seconds(25), "release",
                             std::chrono::seconds(15), std::nullopt};
    auto id = client->CreateSession(spec);
    REQUIRE(id.ok());
    REQUIRE(*client->Acquire(config.keys.primary_key, *id, value));
    return *id;
  }
  // Who holds PRIMARY_KEY, for table tests over every case.
  enum class Lock { kHeldHere, kHeldByOther, kFree, kOurNameOldSession };
  void SetLock(Lock lock) {
    switch (lock) {
      case Lock::kHeldHere:
        HoldLockHere();
        break;
      case Lock::kHeldByOther:
        GiveLockTo(kOther);
        break;
      case Lock::kFree:
        break;
      case Lock::kOurNameOldSession:  // a previous run of this node, on this agent
        GiveLockTo(kNode, "node1");
        break;
    }
  }
  bool LockHeld() {
    auto kv = consul.Peek(config.keys.primary_key);
    return kv && !kv->session.empty();
  }
  // A new node that first saw PRIMARY_KEY missing long enough ago to bootstrap
  // a cluster, if no other node of the service passes (cluster/role.h).
  void PastNewNodeWait() {
    REQUIRE(state().SetLockMissingSince(std::to_string(clock.SinceBoot().count())).ok());
    clock.Advance(cluster::EveryNodePassedWithin(cluster::LeaseTimingOf(config)));
  }
  bool Called(const std::string& method) {
    for (const auto& call : consul.calls()) {
      if (call.method == method) return true;
    }
    return false;
  }

  // ---- Logs.

  bool Logged(std::string_view text) const {
    for (const std::string& line : logs) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  sys::TempDir tmp;
  sys::FakeClock clock;
  consul::FakeConsul consul{clock, "node1"};
  mysql::FakeConnector connector;
  sys::FakeFileSystem fs;
  sys::FakeProcessRunner runner;
  storage::FakeStore store;
  storage::FakeStore archive;                 // the binlog archive (Deps::open_archive)
  std::vector<std::string> archive_services;  // whose archive was opened
  Status store_unavailable;
  std::string
      printed;  // what the command wrote to its output  // what open_store fails with, once set
  Config config;
  mysql::Dialect dialect;
  Deps deps;
  std::vector<std::vector<std::string>> spawned;
  std::vector<std::string> logs;
};

}  // namespace manage::hooks
