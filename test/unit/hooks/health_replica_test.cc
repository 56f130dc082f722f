// health on a replica: pointing replication at the lock holder, restoring a
// snapshot's position, restarting stopped threads and judging lag.
#include <catch2/catch.hpp>

#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using mysql::ThreadState;
using Strings = std::vector<std::string>;

// A replica of kOther: the lock is held from agent node2, both nodes are
// registered and mysqld is read-only.
struct ReplicaFixture : HookFixture {
  explicit ReplicaFixture(const Env& overrides = {}) : HookFixture(overrides) {
    RegisterSelf();
    RegisterOther();
    GiveLockTo(kOther);
    ScriptReadOnly(true);
  }
  // The status health reads first and EnsureReplicatingFrom re-reads, then
  // what the server reports once the hook has acted.
  void ScriptStatus(const mysql::ReplicaStatus& before, const mysql::ReplicaStatus& after) {
    ScriptReplica(after);
    ScriptReplica(before, 2);
  }
};

mysql::ReplicaStatus WithIoError(mysql::ReplicaStatus s, int err, std::string text) {
  s.last_io_errno = err;
  s.last_io_error = std::move(text);
  return s;
}

// The IO thread retrying its source, the SQL thread applying what it has.
mysql::ReplicaStatus Reconnecting(int err, std::string text) {
  mysql::ReplicaStatus s = WithIoError(ReplicaOf(kOtherAddress), err, std::move(text));
  s.io_running = ThreadState::kConnecting;
  s.seconds_behind = std::nullopt;
  return s;
}

mysql::ReplicaStatus WithSqlError(mysql::ReplicaStatus s, int err, std::string text) {
  s.last_sql_errno = err;
  s.last_sql_error = std::move(text);
  return s;
}

TEST_CASE("health: a replica points replication at the lock holder, never while it runs") {
  const mysql::ReplicaStatus right = ReplicaOf(kOtherAddress);
  const mysql::ReplicaStatus stopped = ReplicaOf(kOtherAddress, ThreadState::kNo);
  mysql::ReplicaStatus io_only_down = right;
  io_only_down.io_running = ThreadState::kNo;
  io_only_down.seconds_behind = std::nullopt;
  mysql::ReplicaStatus sql_down = right;
  sql_down.sql_running = ThreadState::kNo;
  sql_down.seconds_behind = std::nullopt;
  struct Row {
    const char* what;
    mysql::ReplicaStatus before;
    mysql::ReplicaStatus after;
    Strings writes;
    Code code;
    std::string message;  // a part of the failure's message
  };
  const Row rows[] = {
      {"not configured", {}, right, {ChangeMasterTo(kOtherAddress), "START SLAVE"}, Code::kOk, ""},
      {"running from another source",
       ReplicaOf("10.0.0.99"),
       right,
       {"STOP SLAVE", ChangeMasterTo(kOtherAddress), "START SLAVE"},
       Code::kOk,
       ""},
      {"stopped, configured for another source",
       ReplicaOf("10.0.0.99", ThreadState::kNo),
       right,
       {"STOP SLAVE", ChangeMasterTo(kOtherAddress), "START SLAVE"},
       Code::kOk,
       ""},
      {"running from the right host but another port",
       [] {
         auto s = ReplicaOf(kOtherAddress);
         s.source_port = 3307;
         return s;
       }(),
       right,
       {"STOP SLAVE", ChangeMasterTo(kOtherAddress), "START SLAVE"},
       Code::kOk,
       ""},
      {"already right and running", right, right, {}, Code::kOk, ""},
      {"right source, both threads stopped without errors (after a restart)",
       stopped,
       right,
       {"START SLAVE"},
       Code::kOk,
       ""},
      {"right source, IO thread stopped with an error",
       WithIoError(stopped, 1045, "Access denied for user 'repl'@'10.0.0.11'"),
       WithIoError(stopped, 1045, "Access denied for user 'repl'@'10.0.0.11'"),
       {},
       Code::kFailedPrecondition,
       "IO error 1045: Access denied for user 'repl'@'10.0.0.11'"},
      {"right source, SQL thread stopped with an error",
       WithSqlError(sql_down, 1062, "Duplicate entry '7' for key 'PRIMARY'"),
       WithSqlError(sql_down, 1062, "Duplicate entry '7' for key 'PRIMARY'"),
       {},
       Code::kFailedPrecondition,
       "SQL error 1062: Duplicate entry '7' for key 'PRIMARY'"},
      {"right source, only the IO thread down",
       io_only_down,
       io_only_down,
       {},
       Code::kFailedPrecondition,
       "IO thread No, SQL thread Yes"},
      {"right source, IO thread reconnecting to a source it cannot reach: still a candidate",
       Reconnecting(2003, "Can't connect to server on '10.0.0.12' (111)"),
       Reconnecting(2003, "Can't connect to server on '10.0.0.12' (111)"),
       {},
       Code::kOk,
       ""},
      {"right source, IO thread retrying after the source refused our position",
       Reconnecting(1236, "Got fatal error 1236 from master"),
       Reconnecting(1236, "Got fatal error 1236 from master"),
       {},
       Code::kFailedPrecondition,
       "IO error 1236"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    ReplicaFixture f;
    f.ScriptStatus(row.before, row.after);
    Status s = Health(f.deps, {});
    CHECK(s.code() == row.code);
    CHECK(s.message().find(row.message) != std::string::npos);
    CHECK(f.Writes() == row.writes);
    if (!row.writes.empty()) CHECK(f.state().LastRole() == cluster::Role::kReplica);
    CHECK_FALSE(f.Logged(kReplPassword));
  }
}

// Both threads down and only the SQL thread with an error (for example after
// STOP SLAVE IO_THREAD): the failure must still name the error that stopped it.
TEST_CASE("health: the failure names a replication error on either thread") {
  ReplicaFixture f;
  mysql::ReplicaStatus s = WithSqlError(ReplicaOf(kOtherAddress, ThreadState::kNo), 1062,
                                        "Duplicate entry '7' for key 'PRIMARY'");
  f.ScriptReplica(s);
  Status st = Health(f.deps, {});
  CHECK(st.code() == Code::kFailedPrecondition);
  CHECK(st.message().find("Duplicate entry '7' for key 'PRIMARY'") != std::string::npos);
  CHECK(f.Writes().empty());  // never restarted over an error
}

TEST_CASE("health: a replica issues CHANGE MASTER once over many passes") {
  ReplicaFixture f;
  f.ScriptStatus({}, ReplicaOf(kOtherAddress));
  for (int pass = 0; pass < 4; ++pass) {
    CAPTURE(pass);
    CHECK(Health(f.deps, {}).ok());
  }
  CHECK(f.db().Count("CHANGE MASTER TO", true) == 1);
  CHECK(f.db().Count("START SLAVE") == 1);
  CHECK(f.db().Count("STOP SLAVE") == 0);
}

TEST_CASE("health: a replica follows the source address registered in Consul") {
  ReplicaFixture f;
  f.consul.RegisterService({kOther, "mysql", "node2", "10.0.0.42", 3306, {}, true});
  f.ScriptStatus(ReplicaOf(kOtherAddress), ReplicaOf("10.0.0.42"));
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"STOP SLAVE", ChangeMasterTo("10.0.0.42"), "START SLAVE"});
}

TEST_CASE("health: a steady replica asks Consul only for the lock, not for the primary's address") {
  ReplicaFixture f;
  f.ScriptReplica(ReplicaOf(kOtherAddress));
  REQUIRE(Health(f.deps, {}).ok());  // learns where the primary is once
  f.consul.ClearCalls();
  for (int pass = 0; pass < 3; ++pass) REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.consul.CallLog() ==
        Strings{"List mysql-primary", "List mysql-primary", "List mysql-primary"});
  CHECK(f.Writes().empty());
}

TEST_CASE("health: a replica asks Consul again when the lock holder or replication changes") {
  struct Row {
    const char* what;
    bool other_holder;
    mysql::ReplicaStatus status;
  };
  const Row rows[] = {
      {"another node took the lock", true, ReplicaOf(kOtherAddress)},
      {"replication stopped", false, ReplicaOf(kOtherAddress, ThreadState::kNo)},
      {"replication reconnecting", false, Reconnecting(2003, "Can't connect")},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    ReplicaFixture f;
    f.ScriptReplica(ReplicaOf(kOtherAddress));
    REQUIRE(Health(f.deps, {}).ok());
    if (row.other_holder) {
      f.consul.RegisterService({"mysql-n3", "mysql", "node3", "10.0.0.13", 3306, {}, true});
      REQUIRE(f.consul.DestroySession(f.consul.Peek(f.config.keys.primary_key)->session).ok());
      f.clock.Advance(std::chrono::seconds(16));  // past the lock-delay
      f.GiveLockTo("mysql-n3", "node3");
    }
    f.ScriptReplica(row.status);
    f.consul.ClearCalls();
    (void)Health(f.deps, {});
    CHECK(f.Called("Health"));
  }
}

TEST_CASE("health: a replica whose primary is not registered fails without repointing") {
  HookFixture f;
  f.RegisterSelf();
  f.GiveLockTo(kOther, "node2");
  f.ScriptReadOnly(true);
  Status s = Health(f.deps, {});
  CHECK(s.code() == Code::kNotFound);
  CHECK(f.Writes().empty());
}

TEST_CASE("health: a restored snapshot's GTID is set before CHANGE MASTER, then forgotten") {
  ReplicaFixture f;
  REQUIRE(f.state().SetOrigin(cluster::Origin::kSnapshot).ok());
  REQUIRE(f.state().SetRestoredGtid("0-1-42").ok());
  f.ScriptStatus({}, ReplicaOf(kOtherAddress));

  SECTION("replication starts") {
    REQUIRE(Health(f.deps, {}).ok());
    CHECK(f.Writes() == Strings{"RESET MASTER", "SET GLOBAL gtid_binlog_state='0-1-42'",
                                "SET GLOBAL gtid_slave_pos='0-1-42'", ChangeMasterTo(kOtherAddress),
                                "START SLAVE"});
    CHECK(f.state().RestoredGtid().empty());
    CHECK_FALSE(f.fs.Exists(f.StatePath("restored-gtid")));
  }
  SECTION("CHANGE MASTER fails: the server keeps the position, the state dir forgets it") {
    // gtid_slave_pos is stored by the server (mysql.gtid_slave_pos), so the next
    // pass must not set it again: a later repoint would rewind the replica.
    f.db().FailPrefix("CHANGE MASTER TO", Status::FailedPrecondition("(1198) busy"), 1);
    CHECK_FALSE(Health(f.deps, {}).ok());
    CHECK(f.state().RestoredGtid().empty());
    CHECK(f.Writes() == Strings{"RESET MASTER", "SET GLOBAL gtid_binlog_state='0-1-42'",
                                "SET GLOBAL gtid_slave_pos='0-1-42'",
                                ChangeMasterTo(kOtherAddress)});
  }
}

// After replication has run from the restored position, that position is
// history: a later change of source must never rewind gtid_slave_pos to it.
TEST_CASE("health: a restored GTID is never applied again once replication has started") {
  ReplicaFixture f;
  REQUIRE(f.state().SetOrigin(cluster::Origin::kSnapshot).ok());
  REQUIRE(f.state().SetRestoredGtid("0-1-42").ok());
  f.ScriptReplica(ReplicaOf(kOtherAddress));
  f.ScriptReplica(ReplicaOf(kOtherAddress, ThreadState::kNo), 2);
  f.ScriptReplica({}, 2);
  // Pass 1: CHANGE MASTER succeeds but START SLAVE fails (mysqld restarted).
  f.db().Fail("START SLAVE", Status::Unavailable("(2013) Lost connection"), 1);
  CHECK_FALSE(Health(f.deps, {}).ok());
  // Pass 2: pointing right, threads stopped without errors: START SLAVE only.
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.db().Count("START SLAVE") == 2);
  CHECK(f.state().RestoredGtid().empty());

  // A new primary: repointing must keep the replica's own position.
  const char* kThird = "mysql-n3";
  f.consul.RegisterService({kThird, "mysql", "node3", "10.0.0.13", 3306, {}, true});
  f.clock.Advance(std::chrono::seconds(70));  // kOther's session expires; lock-delay passes
  f.GiveLockTo(kThird, "node3");
  f.ScriptReplica(ReplicaOf("10.0.0.13"));
  f.ScriptReplica(ReplicaOf(kOtherAddress), 2);
  f.db().ClearStatements();
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"STOP SLAVE", ChangeMasterTo("10.0.0.13"), "START SLAVE"});
}

TEST_CASE("health: replica lag is judged against MAX_REPLICA_LAG inclusively") {
  struct Row {
    const char* max;  // MAX_REPLICA_LAG; "" for the default (30)
    std::optional<int64_t> lag;
    Code code;
    std::string message;
  };
  const Row rows[] = {
      {"", 0, Code::kOk, ""},
      {"", 30, Code::kOk, ""},
      {"", 31, Code::kFailedPrecondition, "replica lag 31s exceeds MAX_REPLICA_LAG=30s"},
      {"5", 5, Code::kOk, ""},
      {"5", 6, Code::kFailedPrecondition, "replica lag 6s exceeds MAX_REPLICA_LAG=5s"},
      {"0", 0, Code::kOk, ""},
      {"0", 1, Code::kFailedPrecondition, "replica lag 1s exceeds MAX_REPLICA_LAG=0s"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.max, row.lag.value_or(-1));
    ReplicaFixture f(*row.max ? Env{{"MAX_REPLICA_LAG", row.max}} : Env{});
    mysql::ReplicaStatus s = ReplicaOf(kOtherAddress);
    s.seconds_behind = row.lag;
    f.ScriptReplica(s);
    Status st = Health(f.deps, {});
    CHECK(st.code() == row.code);
    CHECK(st.message().find(row.message) != std::string::npos);
    CHECK(f.Writes().empty());
  }
}

// Seconds_Behind_Master is NULL for a moment while both threads run (the SQL
// thread has not yet seen an event); health must fail with a readable reason.
TEST_CASE("health: unknown replica lag fails with a readable message") {
  ReplicaFixture f;
  mysql::ReplicaStatus s = ReplicaOf(kOtherAddress);
  s.seconds_behind = std::nullopt;
  f.ScriptReplica(s);
  Status st = Health(f.deps, {});
  CHECK(st.code() == Code::kFailedPrecondition);
  CHECK(st.message().find("replica lag is unknown") != std::string::npos);
  CHECK(st.message().find("unknowns") == std::string::npos);
}

TEST_CASE("health: a replica found writable is made read-only") {
  ReplicaFixture f;
  f.ScriptReadOnly(false);
  f.ScriptReplica(ReplicaOf(kOtherAddress));
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
}

TEST_CASE("health: a replica whose primary is gone stays read-only and does not take the lock") {
  HookFixture f;
  f.RegisterSelf();
  REQUIRE(f.state().SetRole(cluster::Role::kReplica).ok());
  f.ScriptReadOnly(false);
  SECTION("replication still running") {
    f.ScriptReplica(ReplicaOf(kOtherAddress));
    CHECK(Health(f.deps, {}).ok());
  }
  SECTION("replication broken") {
    f.ScriptReplica(WithIoError(ReplicaOf(kOtherAddress, ThreadState::kNo), 2003, "refused"));
    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kFailedPrecondition);
    CHECK(s.message().find("no primary: ") == 0);
  }
  CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
  CHECK_FALSE(f.Called("CreateSession"));
  CHECK_FALSE(f.Called("Acquire"));
}

// Health runs every few seconds: a node that is waiting or orphaned and already
// read-only must not write anything, and one that is writable is fenced.
TEST_CASE("health: waiting and orphaned nodes stay read-only, writing only to fence") {
  enum class Case { kOrphaned, kWaitOwnName };
  for (Case c : {Case::kOrphaned, Case::kWaitOwnName}) {
    for (bool writable : {false, true}) {
      CAPTURE(static_cast<int>(c), writable);
      HookFixture f;
      f.RegisterSelf();
      if (c == Case::kOrphaned) {
        REQUIRE(f.state().SetRole(cluster::Role::kReplica).ok());
        f.ScriptReplica(ReplicaOf(kOtherAddress, ThreadState::kConnecting));
      } else {
        f.GiveLockTo(kNode, "node1");
      }
      f.ScriptReadOnly(!writable);
      CHECK_FALSE(Health(f.deps, {}).ok());
      CHECK(f.Writes() == (writable ? Strings{"SET GLOBAL read_only=ON"} : Strings{}));
    }
  }
}

}  // namespace
}  // namespace manage::hooks
