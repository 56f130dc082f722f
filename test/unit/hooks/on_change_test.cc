// on_change: a replica repoints at the lock holder when the -primary service
// changes; everyone else leaves mysqld alone.
#include <catch2/catch.hpp>

#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using Strings = std::vector<std::string>;

using Lock = HookFixture::Lock;

// Before repointing, the errant-transaction check reads this node's GTID state
// and the new source's, then the source's binlog state; after stopping
// replication, this node's state again (to replicate from all it has).
constexpr char kGtidState[] =
    "SELECT @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_slave_pos";
constexpr char kBinlogState[] = "SELECT @@GLOBAL.gtid_binlog_state AS s";

TEST_CASE("on_change converges replication only on replicas of another holder") {
  struct Row {
    const char* what;
    Lock lock;
    cluster::Role role;
    mysql::ReplicaStatus status;
    Strings statements;  // everything run on the local mysqld
  };
  const Row rows[] = {
      {"this node holds the lock", Lock::kHeldHere, cluster::Role::kPrimary, {}, {}},
      {"the lock names this node under an old session",
       Lock::kOurNameOldSession,
       cluster::Role::kPrimary,
       {},
       {}},
      // A configured replica is first checked for writes of its own.
      {"replica already pointing at the holder", Lock::kHeldByOther, cluster::Role::kReplica,
       ReplicaOf(kOtherAddress),
       Strings{"SHOW SLAVE STATUS", kGtidState, "SELECT @@GLOBAL.read_only", "SHOW SLAVE STATUS"}},
      {"replica pointing elsewhere", Lock::kHeldByOther, cluster::Role::kReplica,
       ReplicaOf("10.0.0.99"),
       Strings{"SHOW SLAVE STATUS", kGtidState, "SELECT @@GLOBAL.read_only", "SHOW SLAVE STATUS",
               kGtidState, kGtidState, kBinlogState, "STOP SLAVE", kGtidState,
               ChangeMasterTo(kOtherAddress), "START SLAVE"}},
      {"replica with replication not configured",
       Lock::kHeldByOther,
       cluster::Role::kReplica,
       {},
       Strings{"SHOW SLAVE STATUS", "SELECT @@GLOBAL.read_only", "SHOW SLAVE STATUS", kGtidState,
               kGtidState, kBinlogState, kGtidState, ChangeMasterTo(kOtherAddress), "START SLAVE"}},
      {"fresh node not yet given a role by health",
       Lock::kHeldByOther,
       cluster::Role::kUnknown,
       {},
       {}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    HookFixture f;
    f.RegisterSelf();
    f.RegisterOther();
    f.SetLock(row.lock);
    // The watch fired because the holder is advertised as the primary.
    f.consul.RegisterService(
        {"mysql-primary-n2", "mysql-primary", "node2", kOtherAddress, 3306, {}, true});
    if (row.role != cluster::Role::kUnknown) REQUIRE(f.state().SetRole(row.role).ok());
    REQUIRE(f.state().SetOrigin(cluster::Origin::kInit).ok());
    f.ScriptReplica(row.status);
    f.ScriptReadOnly(true);
    f.consul.ClearCalls();

    REQUIRE(OnChange(f.deps, {}).ok());
    CHECK(f.db().statements() == row.statements);
    CHECK_FALSE(f.Called("Acquire"));
    CHECK_FALSE(f.Logged(kReplPassword));
  }
}

TEST_CASE("on_change on a restored node applies the snapshot's position first") {
  HookFixture f;
  f.RegisterSelf();
  f.RegisterOther();
  f.GiveLockTo(kOther);
  REQUIRE(f.state().SetOrigin(cluster::Origin::kSnapshot).ok());
  REQUIRE(f.state().SetRestoredGtid("0-1-42").ok());
  f.ScriptReadOnly(true);
  REQUIRE(OnChange(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"RESET MASTER", "SET GLOBAL gtid_binlog_state='0-1-42'",
                              "SET GLOBAL gtid_slave_pos='0-1-42'", ChangeMasterTo(kOtherAddress),
                              "START SLAVE"});
  CHECK(f.state().RestoredGtid().empty());
  CHECK(f.state().LastRole() == cluster::Role::kReplica);
}

TEST_CASE("on_change fails without touching mysqld when the holder cannot be found") {
  HookFixture f;
  f.RegisterSelf();
  f.GiveLockTo(kOther);  // kOther is not registered
  REQUIRE(f.state().SetRole(cluster::Role::kReplica).ok());
  Status s = OnChange(f.deps, {});
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message().find("finding the primary") == 0);
  CHECK(f.db().connects().empty());
}

TEST_CASE("on_change reports Consul and argument errors") {
  HookFixture f;
  SECTION("Consul unreachable") {
    f.consul.FailNext(1, Status::Unavailable("connection refused"), "List");
    CHECK(OnChange(f.deps, {}).code() == Code::kUnavailable);
  }
  SECTION("unknown argument") {
    CHECK(OnChange(f.deps, {"--force"}).code() == Code::kInvalidArgument);
    CHECK(f.consul.calls().empty());
  }
  CHECK(f.db().connects().empty());
}

}  // namespace
}  // namespace manage::hooks
