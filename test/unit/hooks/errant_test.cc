// Errant transactions through the hooks: found on every health pass of a
// replica, never a failover candidate, never promoted, and refused by the
// check before following a source that never saw them. The rules themselves
// are table-tested in test/unit/cluster/errant_test.cc.
#include <catch2/catch.hpp>

#include "unit/hooks/failover_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;

TEST_CASE("health: a replica's own write is found on its next pass, whatever its policy") {
  for (const char* policy : {"refuse", "reclone"}) {
    CAPTURE(policy);
    HookFixture f(Env{{"ERRANT_POLICY", policy}});
    f.RegisterSelf();
    f.RegisterOther();
    f.GiveLockTo(kOther);
    REQUIRE(f.state().SetRole(cluster::Role::kReplica).ok());
    f.ScriptReplica(ReplicaOf(kOtherAddress));  // replicating, no lag
    f.ScriptReadOnly(true);
    f.ScriptReadOnly(false, 1);  // someone turned it off to write here
    // It replicated up to 0-2-12, then wrote 0-1-13 itself.
    f.db().Reply(mysql::ReadGtidStateSql(f.dialect), GtidRow("0-1-13", "0-2-12"));
    f.db().Reply("SHOW BINARY LOGS",
                 mysql::MakeResult({"Log_name", "File_size"}, {{"bin.000001", "900"}}));
    f.db().Reply("SHOW BINLOG EVENTS IN 'bin.000001'", Events({"0-2-11", "0-2-12", "0-1-13"}));

    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kFailedPrecondition);
    CHECK(s.message().find("errant transactions 0-1-13") != std::string::npos);
    CHECK(f.Logged("errant_gtids=0-1-13"));
    CHECK(f.db().Ran("SET GLOBAL read_only=ON"));
    bool reclone = std::string(policy) == "reclone";
    CHECK(f.db().Ran("SHUTDOWN") == reclone);
    CHECK(f.state().RecloneRequest() == (reclone ? "0-1-13" : ""));
  }
}

TEST_CASE("health: an orphaned replica with an errant write fails, and still starts a failover") {
  OrphanFixture f;
  f.db().Reply(mysql::ReadGtidStateSql(f.dialect), GtidRow("0-1-6", "0-3-5"));
  Status s = Health(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(f.Logged("errant_gtids=0-1-6"));
  CHECK(f.spawned == std::vector<Strings>{{"on_change"}});
}

TEST_CASE("failover: a candidate with errant writes is never chosen, however advanced") {
  OrphanFixture f;
  f.consul.DeregisterService(kOther, "node2");
  // The only candidate wrote 0-1-6 itself on top of what it replicated.
  f.db().Reply(mysql::ReadGtidStateSql(f.dialect), GtidRow("0-1-6", "0-3-5"));
  Status s = Failover(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("mysql-n1 has errant transactions 0-1-6") != std::string::npos);
  CHECK(f.Logged("errant=0-1-6"));
  CHECK_FALSE(f.LockHeld());
  CHECK_FALSE(f.db().Ran("SET GLOBAL read_only=OFF"));
}

TEST_CASE("failover: a designated node written to since it was chosen refuses promotion") {
  OrphanFixture f;
  f.DesignateMe("0-3-5");
  f.db().Reply(mysql::ReadGtidStateSql(f.dialect), GtidRow("0-1-6", "0-3-5"));
  Status s = OnChange(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("refusing promotion: errant transactions 0-1-6") != std::string::npos);
  CHECK_FALSE(f.LockHeld());
  CHECK(f.db().Count("START SLAVE") == 1);  // replication resumed
  CHECK_FALSE(f.db().Ran("SET GLOBAL read_only=OFF"));
}

TEST_CASE("health: never follows a source that never saw a server this node has") {
  // A former primary (nothing configured, so no local check): its last GTID is
  // of server 3, which wrote at seqno 101 on it; the new primary has seqno 105
  // but never had server 3 (MariaDB would refuse it with 1236).
  HookFixture f;
  f.RegisterSelf();
  f.RegisterOther();
  f.GiveLockTo(kOther);
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  f.ScriptReadOnly(true);
  f.ScriptGtid("0-2-105", "0-1-100,0-2-105");  // the new primary
  f.db().Reply(mysql::ReadGtidStateSql(f.dialect), GtidRow("0-3-101", "0-1-100"), 1);  // ours
  Status s = Health(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("errant transactions 0-3-101") != std::string::npos);
  CHECK(f.db().Count("CHANGE MASTER", true) == 0);
}

// A replica of kOther that replicated up to 0-2-12, then wrote 0-1-13 itself
// (a row change), with ERRANT_POLICY=flashback.
struct OwnWriteFixture : HookFixture {
  explicit OwnWriteFixture(bool ddl = false) : HookFixture(Env{{"ERRANT_POLICY", "flashback"}}) {
    RegisterSelf();
    RegisterOther();
    GiveLockTo(kOther);
    REQUIRE(state().SetRole(cluster::Role::kReplica).ok());
    ScriptReplica(ReplicaOf(kOtherAddress));
    ScriptReadOnly(true);
    db().Reply(mysql::ReadGtidStateSql(dialect), GtidRow("0-1-13", "0-2-12"));
    db().Reply("SELECT @@GLOBAL.binlog_format AS f, @@GLOBAL.binlog_row_image AS i",
               mysql::MakeResult({"f", "i"}, {{"ROW", "FULL"}}));
    db().Reply("SHOW BINARY LOGS",
               mysql::MakeResult({"Log_name", "File_size"}, {{"mysql-bin.000001", "900"}}));
    std::vector<mysql::Row> events = {
        {"Format_desc", "Server ver: 10.11.6-MariaDB-log, Binlog ver: 4"},
        {"Gtid_list", "[]"},
        {"Gtid", "BEGIN GTID 0-2-12"},
        {"Write_rows_v1", "table_id: 18 flags: STMT_END_F"},
        {"Xid", "COMMIT /* xid=5 */"},
        {"Gtid", ddl ? "GTID 0-1-13" : "BEGIN GTID 0-1-13"},
        {ddl ? "Query" : "Write_rows_v1", ddl ? "ALTER TABLE t ADD c INT" : "table_id: 18"},
        {"Xid", "COMMIT /* xid=6 */"},
    };
    db().Reply("SHOW BINLOG EVENTS IN 'mysql-bin.000001'",
               mysql::MakeResult({"Event_type", "Info"}, events));
    runner.Script("mariadb-binlog", FakeProcessRunner::Reply().Stdout("### INSERT INTO t\n"));
    runner.Script("mariadb-binlog", FakeProcessRunner::Reply().Stdout("BINLOG 'reverting'\n"));
  }
  using FakeProcessRunner = sys::FakeProcessRunner;
};

TEST_CASE("flashback: a health pass leaves it to the failover hook") {
  OwnWriteFixture f;
  Status s = Health(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("ERRANT_POLICY=flashback") != std::string::npos);
  CHECK(f.spawned == std::vector<Strings>{{"on_change"}});
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.db().Ran("SHUTDOWN"));
  CHECK(f.state().RecloneRequest().empty());
}

TEST_CASE("flashback: the failover hook reverts a replica's own write, unlogged, and rejoins") {
  OwnWriteFixture f;
  REQUIRE(OnChange(f.deps, {}).ok());
  REQUIRE(f.runner.calls().size() == 3);
  const std::string binlog = "/var/lib/mysql/mysql-bin.000001";
  CHECK(f.runner.calls()[0].cmd.argv == Strings{"mariadb-binlog", "--no-defaults", "--verbose",
                                                "--do-domain-ids=0", "--start-position=0-2-12",
                                                binlog});
  CHECK(f.runner.calls()[1].cmd.argv == Strings{"mariadb-binlog", "--no-defaults", "--flashback",
                                                "--do-domain-ids=0", "--start-position=0-2-12",
                                                binlog});
  CHECK(f.runner.calls()[2].cmd.argv[0] == "mariadb");
  CHECK(f.runner.calls()[2].stdin_data == "SET SESSION sql_log_bin=0;\nBINLOG 'reverting'\n");
  // The write, decoded, kept in the state dir.
  bool saved = false;
  for (const std::string& name : *f.fs.ListDir(f.config.state_dir)) {
    if (name.rfind("errant-", 0) == 0) {
      saved = true;
      CHECK(*f.fs.ReadFile(f.StatePath(name)) == "### INSERT INTO t\n");
      CHECK(f.fs.Find(f.StatePath(name))->mode == 0600);
    }
  }
  CHECK(saved);
  CHECK(f.Writes() == Strings{"STOP SLAVE", "RESET MASTER", "SET GLOBAL gtid_binlog_state='0-2-12'",
                              "SET GLOBAL gtid_slave_pos='0-2-12'", "RESET SLAVE"});
  CHECK(f.Logged("errant transactions reverted with flashback"));
  CHECK(f.state().RecloneRequest().empty());
}

TEST_CASE("flashback: a DDL statement cannot be reverted, the node reclones instead") {
  OwnWriteFixture f(/*ddl=*/true);
  Status s = OnChange(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(f.Logged("is a DDL statement"));
  CHECK(f.runner.calls().empty());
  CHECK(f.db().Ran("SHUTDOWN"));
  CHECK(f.state().RecloneRequest() == "0-1-13");
}

}  // namespace
}  // namespace manage::hooks
