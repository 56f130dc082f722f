// Failover, fencing and rejoin through the hooks, with fake Consul and MySQL.
// Candidate choice itself is table-tested in test/unit/cluster/failover_test.cc;
// these tests check the wiring: who takes which lock, what runs on mysqld, and
// in what order.
#include "cluster/failover.h"

#include <catch2/catch.hpp>

#include "hooks/failover.h"
#include "hooks/file_lock.h"
#include "unit/hooks/failover_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;
TEST_CASE("failover: the chosen node takes the lock, then stops being a replica, then writes") {
  OrphanFixture f;
  f.db().ClearStatements();
  REQUIRE(Failover(f.deps, {}).ok());

  // Equal GTIDs and priorities: the first name wins, and that is this node.
  auto kv = f.consul.Peek(f.config.keys.primary_key);
  REQUIRE(kv);
  CHECK(kv->value == kNode);
  CHECK(kv->session == f.state().Session());
  CHECK(f.Writes() == Strings{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only=OFF"});
  CHECK(f.state().LastRole() == cluster::Role::kPrimary);
  CHECK(f.spawned == std::vector<Strings>{{"snapshot", "--force"}});
  // The coordinator's lock is gone, and the event is in the history.
  CHECK_FALSE(f.consul.Peek(f.config.failover.lock_key));
  auto history = f.History();
  REQUIRE(history.size() == 1);
  CHECK(history[0].kind == "failover");
  CHECK(history[0].old_primary == kThird);
  CHECK(history[0].new_primary == kNode);
  CHECK(history[0].candidates.size() == 2);
  CHECK(f.Logged("chose the new primary"));
}

TEST_CASE("failover: a registered node failing its check is a candidate, and may be the best") {
  OrphanFixture f;
  // kOther acknowledged more (semi-sync) but fails its check on lag.
  f.consul.DeregisterService(kOther, "node2");
  f.consul.RegisterService({kOther, "mysql", "node2", kOtherAddress, 3306, {}, false});
  // The candidates are read in Consul's order, kNode then kOther (the rule
  // added last answers first); later reads see the default 0-1-5.
  const std::string gtid_sql = mysql::ReadGtidStateSql(f.dialect);
  f.db().Reply(gtid_sql, GtidRow("0-1-7", "0-1-7"), 1);
  f.db().Reply(gtid_sql, GtidRow("0-1-5", "0-1-5"), 1);
  // kOther takes the lock once designated (its own waiter, in reality).
  f.clock.on_sleep = [&f] {
    auto kv = f.consul.Peek(f.config.failover.lock_key);
    if (!kv || f.LockHeld()) return;
    auto d = cluster::ParseDesignation(kv->value);
    if (d.ok() && d->candidate == kOther) f.GiveLockTo(kOther);
  };
  REQUIRE(Failover(f.deps, {}).ok());
  auto history = f.History();
  REQUIRE(history.size() == 1);
  CHECK(history[0].new_primary == kOther);
  CHECK(history[0].candidates.size() == 2);
}

TEST_CASE("failover: a candidate that misses one connection is asked again") {
  OrphanFixture f;
  f.consul.DeregisterService(kOther, "node2");
  f.db().FailConnect(Status::Unavailable("(2003) connect timed out"));
  f.db().ClearStatements();
  REQUIRE(Failover(f.deps, {}).ok());
  CHECK(f.consul.Peek(f.config.keys.primary_key)->value == kNode);
  CHECK(f.History().back().candidates.size() == 1);
}

TEST_CASE("failover: a node designated with a source catches up from it, then promotes itself") {
  OrphanFixture f;
  // kOther has everything but NO_FAILOVER: this node replicates from it first.
  f.DesignateMe("0-1-5", kOther);
  f.db().ClearStatements();
  REQUIRE(OnChange(f.deps, {}).ok());
  CHECK(f.consul.Peek(f.config.keys.primary_key)->value == kNode);
  CHECK(f.Writes() == Strings{"STOP SLAVE", ChangeMasterTo(kOtherAddress), "START SLAVE",
                              "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only=OFF"});
  // It waited for the source's GTIDs after repointing to it.
  const auto& all = f.db().statements();
  auto at = [&all](const std::string& prefix) {
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].starts_with(prefix)) return i;
    }
    return all.size();
  };
  CHECK(at("CHANGE MASTER") < at("SELECT MASTER_GTID_WAIT('0-1-5'"));
}

TEST_CASE("failover: a lone candidate tagged no-failover is never promoted") {
  OrphanFixture f(Env{{"NO_FAILOVER", "yes"}});
  // The only passing node is this one, and its service tag says no-failover
  // (what containerpilot.json5 publishes for NO_FAILOVER=yes).
  f.consul.DeregisterService(kNode, "node1");
  f.consul.RegisterService({kNode, "mysql", "node1", kAddress, 3306, {"no-failover"}, true});
  f.consul.DeregisterService(kOther, "node2");
  f.db().ClearStatements();
  Status s = Failover(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("NO_FAILOVER") != std::string::npos);
  CHECK_FALSE(f.LockHeld());
  CHECK(f.Writes().empty());
}

TEST_CASE("failover: held back by the cooldown while the last primary is registered") {
  OrphanFixture f;
  // kOther was the last primary and is still registered; it failed over recently.
  f.GiveLockTo(kOther);
  f.clock.Advance(120s);
  cluster::FailoverEvent recent;
  recent.time = f.clock.Now() - 60s;
  recent.kind = "failover";
  recent.new_primary = kOther;
  REQUIRE(f.consul.Put(f.config.failover.history_key, cluster::SerializeHistory({recent})).ok());

  SECTION("automatic: no promotion within the failover budget") {
    Status s = Failover(f.deps, {});
    CHECK(s.code() == Code::kDeadlineExceeded);
    CHECK_FALSE(f.LockHeld());
    CHECK(f.Logged("FAILOVER_COOLDOWN"));
  }
  SECTION("forced: fails over at once, leaving the last primary out") {
    REQUIRE(Failover(f.deps, {"--force"}).ok());
    auto kv = f.consul.Peek(f.config.keys.primary_key);
    REQUIRE(kv);
    CHECK(kv->value == kNode);
    CHECK(f.History().back().kind == "forced failover");
    CHECK(f.History().back().candidates.size() == 1);
  }
}

TEST_CASE("failover: a waiter designated by another coordinator promotes itself") {
  OrphanFixture f;
  f.DesignateMe("0-1-5");
  f.db().ClearStatements();
  REQUIRE(OnChange(f.deps, {}).ok());
  CHECK(f.consul.Peek(f.config.keys.primary_key)->value == kNode);
  CHECK(f.db().Ran("SELECT MASTER_GTID_WAIT('0-1-5', 30)"));
  CHECK(f.Writes() == Strings{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only=OFF"});
}

TEST_CASE("failover: a designated node whose check fails takes the lock once it passes again") {
  OrphanFixture f;
  f.consul.SetCheckStatus("service:" + std::string(kNode), "critical", "node1");
  f.DesignateMe("0-1-5");
  // Its next health pass, having caught up, passes.
  f.clock.on_sleep = [&f] {
    f.consul.SetCheckStatus("service:" + std::string(kNode), "passing", "node1");
  };
  REQUIRE(OnChange(f.deps, {}).ok());
  CHECK(f.consul.Peek(f.config.keys.primary_key)->value == kNode);
  CHECK(f.LockHeld());
}

TEST_CASE("failover: a designated node that lacks the required GTIDs refuses") {
  OrphanFixture f;
  f.DesignateMe("0-1-9");
  Status s = OnChange(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("refusing promotion") != std::string::npos);
  CHECK_FALSE(f.LockHeld());
  CHECK(f.db().Count("START SLAVE") == 1);  // replication resumed
  CHECK_FALSE(f.db().Ran("SET GLOBAL read_only=OFF"));
}

TEST_CASE("health: an orphaned replica stays healthy and starts the failover hook") {
  OrphanFixture f;
  mysql::ReplicaStatus reconnecting = ReplicaOf("10.0.0.13");
  reconnecting.io_running = mysql::ThreadState::kConnecting;
  reconnecting.last_io_errno = 2003;
  f.ScriptReplica(reconnecting);
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.spawned == std::vector<Strings>{{"on_change"}});
  CHECK(f.Writes().empty());
}

TEST_CASE("health: a former primary refuses to replicate a primary that lacks its writes") {
  for (const char* policy : {"refuse", "reclone"}) {
    CAPTURE(policy);
    HookFixture f(Env{{"ERRANT_POLICY", policy}});
    f.RegisterSelf();
    f.RegisterOther();
    f.GiveLockTo(kOther);
    REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
    f.ScriptReadOnly(true);
    // Ours (read first), then the new primary's: it has our writes up to 0-1-5 only.
    f.ScriptGtid("0-2-10", "0-1-5,0-2-10");
    f.db().Reply(
        mysql::ReadGtidStateSql(f.dialect),
        mysql::MakeResult({"executed", "binlog_pos", "slave_pos"}, {{"0-1-7", "0-1-7", ""}}), 1);
    f.db().Reply("SHOW BINARY LOGS",
                 mysql::MakeResult({"Log_name", "File_size"}, {{"bin.000002", "900"}}));
    f.db().Reply("SHOW BINLOG EVENTS IN 'bin.000002'", Events({"0-1-5", "0-1-6", "0-1-7"}));

    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kFailedPrecondition);
    CHECK(s.message().find("errant transactions 0-1-6,0-1-7") != std::string::npos);
    CHECK(f.Logged("errant_gtids=0-1-6,0-1-7"));
    CHECK(f.db().Count("CHANGE MASTER", true) == 0);
    bool reclone = std::string(policy) == "reclone";
    CHECK(f.db().Ran("SHUTDOWN") == reclone);
    CHECK(f.state().RecloneRequest() == (reclone ? "0-1-6,0-1-7" : ""));
  }
}

TEST_CASE("health: a former primary whose writes all reached the new primary rejoins") {
  HookFixture f;
  f.RegisterSelf();
  f.RegisterOther();
  f.GiveLockTo(kOther);
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  f.ScriptReadOnly(true);
  f.ScriptGtid("0-2-10", "0-1-7,0-2-10");
  // Read in this order (the rule added last answers first): ours for the
  // errant check, the new primary's, ours again before CHANGE MASTER.
  const std::string gtid_sql = mysql::ReadGtidStateSql(f.dialect);
  f.db().Reply(gtid_sql, GtidRow("0-1-7", ""), 1);
  f.db().Reply(gtid_sql, GtidRow("0-2-10", ""), 1);
  f.db().Reply(gtid_sql, GtidRow("0-1-7", ""), 1);
  f.ScriptReplica(ReplicaOf(kOtherAddress));
  f.ScriptReplica({}, 2);
  REQUIRE(Health(f.deps, {}).ok());
  // Its own writes are only in its binlog: it replicates from after them.
  CHECK(f.Writes() ==
        Strings{"SET GLOBAL gtid_slave_pos='0-1-7'", ChangeMasterTo(kOtherAddress), "START SLAVE"});
  CHECK(f.state().LastRole() == cluster::Role::kReplica);
}

TEST_CASE("fencing kills client connections before and after setting read_only") {
  HookFixture f;
  f.HoldLockHere();
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  f.ScriptReadOnly(false);
  // The later rule answers first: 11 and 12 before read_only, 13 after.
  f.db().ReplyPrefix("SELECT ID FROM information_schema.PROCESSLIST",
                     mysql::MakeResult({"ID"}, {{"13"}}), 1);
  f.db().ReplyPrefix("SELECT ID FROM information_schema.PROCESSLIST",
                     mysql::MakeResult({"ID"}, {{"11"}, {"12"}}), 1);
  f.consul.FailNext(1, Status::NotFound("Session id not found"), "RenewSession");
  CHECK_FALSE(Health(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"KILL CONNECTION 11", "KILL CONNECTION 12", "SET GLOBAL read_only=ON",
                              "KILL CONNECTION 13"});
}

// The primary's side of a switchover, with kOther playing the target: it marks
// itself armed once designated, and takes PRIMARY_KEY once released.
struct SwitchoverFixture : HookFixture {
  SwitchoverFixture() {
    HoldLockHere();
    REQUIRE(state().SetBootstrapped().ok());
    REQUIRE(state().SetRole(cluster::Role::kPrimary).ok());
    RegisterOther();
    ScriptReadOnly(false);
    clock.on_sleep = [this] { PlayTarget(); };
  }
  void PlayTarget() {
    auto kv = consul.Peek(config.failover.lock_key);
    if (!kv) return;
    auto d = cluster::ParseDesignation(kv->value);
    if (!d.ok() || d->candidate != kOther) return;
    if (!consul.Peek(config.failover.lock_key + "-armed")) {
      REQUIRE(consul.Put(config.failover.lock_key + "-armed", kOther).ok());
    }
    if (!d->gtid.empty() && !LockHeld()) GiveLockTo(kOther);
  }
};

TEST_CASE("switchover: the release names the target, the only node that may take the lock") {
  SwitchoverFixture f;
  // The target arms itself but never takes the lock.
  f.clock.on_sleep = [&f] {
    if (f.consul.Peek(f.config.failover.lock_key) &&
        !f.consul.Peek(f.config.failover.lock_key + "-armed")) {
      REQUIRE(f.consul.Put(f.config.failover.lock_key + "-armed", kOther).ok());
    }
  };
  Status s = Switchover(f.deps, {});
  CHECK(s.code() == Code::kDeadlineExceeded);
  auto kv = f.consul.Peek(f.config.keys.primary_key);
  REQUIRE(kv);
  CHECK(kv->session.empty());
  CHECK(kv->value == kOther);
}

TEST_CASE("switchover on a clean stop: fence, hand over, and leave this node a replica") {
  SwitchoverFixture f;
  REQUIRE(PreStop(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
  auto kv = f.consul.Peek(f.config.keys.primary_key);
  REQUIRE(kv);
  CHECK(kv->value == kOther);
  // Recorded before the handover lock is dropped, so that the next health
  // pass follows the new primary instead of taking the lock back.
  CHECK(f.state().LastRole() == cluster::Role::kReplica);
  CHECK(f.state().Session().empty());
  CHECK_FALSE(f.consul.Peek(f.config.failover.lock_key));
}

TEST_CASE("switchover abandoned: this node stays fenced, the next health pass decides") {
  SwitchoverFixture f;
  f.ScriptReadOnly(true);      // once fenced
  f.ScriptReadOnly(false, 1);  // before the fence
  // Read in this order (the rule added last answers first): the target when
  // choosing it, then this node after the fence, ahead of anything the
  // target ever reaches.
  const std::string gtid_sql = mysql::ReadGtidStateSql(f.dialect);
  f.db().Reply(gtid_sql, GtidRow("0-1-9", ""), 1);
  f.db().Reply(gtid_sql, GtidRow("0-1-5", ""), 1);
  Status s = Switchover(f.deps, {});
  CHECK(s.code() == Code::kDeadlineExceeded);
  // Fenced, and never unfenced. Nothing renewed the session during the
  // 30 s wait, and it expired: unfencing now would make a node writable
  // without the lock.
  CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
  CHECK_FALSE(f.LockHeld());
  CHECK_FALSE(f.consul.Peek(f.config.failover.lock_key));
  CHECK(f.Logged("switchover abandoned"));
}

TEST_CASE("health: a pass while a switchover runs on this node changes nothing") {
  struct Row {
    const char* what;
    bool lock_held_here;
  };
  const Row rows[] = {
      // It read the lock as ours just before the switchover fenced mysqld.
      {"before the release", true},
      // It read the lock as free, its value still naming this node.
      {"after the release", false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    HookFixture f;
    if (row.lock_held_here) {
      f.HoldLockHere();
    } else {
      f.RegisterSelf();
      f.GiveLockTo(kNode, "node1");
      REQUIRE(f.consul
                  .Release(f.config.keys.primary_key,
                           f.consul.Peek(f.config.keys.primary_key)->session, kNode)
                  .value());
    }
    REQUIRE(f.state().SetBootstrapped().ok());
    REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
    f.ScriptReadOnly(true);  // fenced by the switchover
    {
      FileLock switchover(f.StatePath(kHandoverLock));
      REQUIRE(switchover.ok());
      REQUIRE(Health(f.deps, {}).ok());
      CHECK(f.Writes().empty());
      CHECK(f.LockHeld() == row.lock_held_here);
      CHECK(f.Called("RenewSession") == row.lock_held_here);
    }
    // The same pass without a switchover would have undone the fence, or
    // taken the lock back.
    (void)Health(f.deps, {});
    if (row.lock_held_here) {
      CHECK(f.Writes() == Strings{"SET GLOBAL read_only=OFF"});
    } else {
      CHECK(f.LockHeld());
    }
  }
}

}  // namespace
}  // namespace manage::hooks
