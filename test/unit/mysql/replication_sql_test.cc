#include "mysql/replication_sql.h"

#include <catch2/catch.hpp>

namespace manage::mysql {
namespace {

const Dialect kMariaDb{Flavor::kMariaDb, {10, 11, 6}};
const Dialect kMySql8036{Flavor::kMySql, {8, 0, 36}};
const Dialect kMySql8022{Flavor::kMySql, {8, 0, 22}};
const Dialect kMySql8021{Flavor::kMySql, {8, 0, 21}};
const Dialect kMySql84{Flavor::kMySql, {8, 4, 0}};
const Dialect kMySql57{Flavor::kMySql, {5, 7, 44}};

ReplicationSource Source() {
  ReplicationSource s;
  s.host = "db-1";
  s.port = 3306;
  s.user = "repl";
  s.password = "p'w";
  s.connect_retry = 5;
  return s;
}

TEST_CASE("ChangeSourceSql spells the statement per dialect") {
  struct Case {
    Dialect dialect;
    bool ssl;
    const char* sql;
  };
  const Case cases[] = {
      {kMariaDb, false,
       "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', "
       "MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=5, MASTER_USE_GTID=slave_pos"},
      {kMariaDb, true,
       "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', "
       "MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=5, MASTER_USE_GTID=slave_pos, "
       "MASTER_SSL=1"},
      {kMySql8036, false,
       "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_PORT=3306, SOURCE_USER='repl', "
       "SOURCE_PASSWORD='p\\'w', SOURCE_CONNECT_RETRY=5, SOURCE_AUTO_POSITION=1, "
       "GET_SOURCE_PUBLIC_KEY=1"},
      {kMySql8036, true,
       "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_PORT=3306, SOURCE_USER='repl', "
       "SOURCE_PASSWORD='p\\'w', SOURCE_CONNECT_RETRY=5, SOURCE_AUTO_POSITION=1, SOURCE_SSL=1"},
      {kMySql8022, false,
       "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', "
       "MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=5, MASTER_AUTO_POSITION=1, "
       "GET_MASTER_PUBLIC_KEY=1"},
      {kMySql57, false,
       "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', "
       "MASTER_PASSWORD='p\\'w', MASTER_CONNECT_RETRY=5, MASTER_AUTO_POSITION=1"},
  };
  for (const Case& c : cases) {
    INFO(c.sql);
    ReplicationSource s = Source();
    s.ssl = c.ssl;
    Result<std::string> sql = ChangeSourceSql(c.dialect, s);
    REQUIRE(sql.ok());
    CHECK(*sql == c.sql);
  }
}

TEST_CASE("ChangeSourceSql rejects incomplete sources") {
  struct Case {
    const char* why;
    void (*edit)(ReplicationSource&);
  };
  const Case cases[] = {
      {"empty host", [](ReplicationSource& s) { s.host.clear(); }},
      {"empty user", [](ReplicationSource& s) { s.user.clear(); }},
      {"port 0", [](ReplicationSource& s) { s.port = 0; }},
      {"port 65536", [](ReplicationSource& s) { s.port = 65536; }},
      {"retry 0", [](ReplicationSource& s) { s.connect_retry = 0; }},
  };
  for (const Case& c : cases) {
    INFO(c.why);
    ReplicationSource s = Source();
    c.edit(s);
    Result<std::string> sql = ChangeSourceSql(kMariaDb, s);
    REQUIRE_FALSE(sql.ok());
    CHECK(sql.status().code() == Code::kInvalidArgument);
    CHECK(sql.status().message().find("p'w") == std::string::npos);
  }
}

TEST_CASE("Replica thread statements per dialect") {
  struct Case {
    Dialect dialect;
    const char* start;
    const char* stop;
    const char* reset;
    const char* show;
  };
  const Case cases[] = {
      {kMariaDb, "START SLAVE", "STOP SLAVE", "RESET SLAVE ALL", "SHOW SLAVE STATUS"},
      {kMySql57, "START SLAVE", "STOP SLAVE", "RESET SLAVE ALL", "SHOW SLAVE STATUS"},
      {kMySql8021, "START SLAVE", "STOP SLAVE", "RESET SLAVE ALL", "SHOW SLAVE STATUS"},
      {kMySql8022, "START REPLICA", "STOP REPLICA", "RESET REPLICA ALL", "SHOW REPLICA STATUS"},
      {kMySql84, "START REPLICA", "STOP REPLICA", "RESET REPLICA ALL", "SHOW REPLICA STATUS"},
  };
  for (const Case& c : cases) {
    INFO(c.start);
    CHECK(StartReplicaSql(c.dialect) == c.start);
    CHECK(StopReplicaSql(c.dialect) == c.stop);
    CHECK(ResetReplicaSql(c.dialect) == c.reset);
    CHECK(ShowReplicaStatusSql(c.dialect) == c.show);
  }
}

TEST_CASE("SetGtidPositionSql validates and canonicalises the position") {
  using V = std::vector<std::string>;
  CHECK(*SetGtidPositionSql(kMariaDb, "1-2-3,\n0-1-5") ==
        V{"SET GLOBAL gtid_slave_pos='0-1-5,1-2-3'"});
  CHECK(*SetGtidPositionSql(kMariaDb, "") == V{"SET GLOBAL gtid_slave_pos=''"});
  const char* set = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5";
  CHECK(*SetGtidPositionSql(kMySql8036, set) ==
        V{"RESET MASTER", std::string("SET GLOBAL gtid_purged='") + set + "'"});
  CHECK(*SetGtidPositionSql(kMySql84, set) ==
        V{"RESET BINARY LOGS AND GTIDS", std::string("SET GLOBAL gtid_purged='") + set + "'"});
  for (const char* bad : {"0-1-3'; DROP TABLE x; --", "garbage", "0-1"}) {
    INFO(bad);
    CHECK(SetGtidPositionSql(kMariaDb, bad).status().code() == Code::kInvalidArgument);
    CHECK(SetGtidPositionSql(kMySql8036, bad).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("GTID state, wait and read_only statements") {
  CHECK(ReadGtidStateSql(kMariaDb) ==
        "SELECT @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_slave_pos");
  CHECK(ReadGtidStateSql(kMySql8036) == "SELECT @@GLOBAL.gtid_executed");
  CHECK(*WaitForGtidSql(kMariaDb, "0-1-5", std::chrono::seconds(30)) ==
        "SELECT MASTER_GTID_WAIT('0-1-5', 30)");
  CHECK(*WaitForGtidSql(kMySql8036, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5\n",
                        std::chrono::seconds(2)) ==
        "SELECT WAIT_FOR_EXECUTED_GTID_SET('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5', 2)");
  CHECK(WaitForGtidSql(kMariaDb, "0-1-5", std::chrono::seconds(0)).status().code() ==
        Code::kInvalidArgument);
  CHECK(WaitForGtidSql(kMariaDb, "x", std::chrono::seconds(1)).status().code() ==
        Code::kInvalidArgument);
  CHECK(SetReadOnlySql(kMariaDb, true) == "SET GLOBAL read_only=ON");
  CHECK(SetReadOnlySql(kMariaDb, false) == "SET GLOBAL read_only=OFF");
  CHECK(SetReadOnlySql(kMySql8036, true) == "SET GLOBAL super_read_only=ON");
  CHECK(SetReadOnlySql(kMySql8036, false) == "SET GLOBAL read_only=OFF");
  CHECK(ReadReadOnlySql() == "SELECT @@GLOBAL.read_only");
}

TEST_CASE("SemiSyncSql names the variables per dialect") {
  using V = std::vector<std::string>;
  SemiSyncOptions on{true, false, std::chrono::milliseconds(5000)};
  CHECK(SemiSyncSql(kMariaDb, on) == V{"SET GLOBAL rpl_semi_sync_master_wait_point=AFTER_SYNC",
                                       "SET GLOBAL rpl_semi_sync_master_timeout=5000",
                                       "SET GLOBAL rpl_semi_sync_master_enabled=ON",
                                       "SET GLOBAL rpl_semi_sync_slave_enabled=OFF"});
  SemiSyncOptions replica{false, true, std::chrono::milliseconds(10000)};
  CHECK(SemiSyncSql(kMySql8036, replica) ==
        V{"SET GLOBAL rpl_semi_sync_source_wait_point=AFTER_SYNC",
          "SET GLOBAL rpl_semi_sync_source_timeout=10000",
          "SET GLOBAL rpl_semi_sync_source_enabled=OFF",
          "SET GLOBAL rpl_semi_sync_replica_enabled=ON"});
  CHECK(SemiSyncSql(kMySql8022, replica)[3] == "SET GLOBAL rpl_semi_sync_slave_enabled=ON");
}

TEST_CASE("ReplicaStatusColumnsFor names the status columns per dialect") {
  ReplicaStatusColumns m = ReplicaStatusColumnsFor(kMariaDb);
  CHECK(m.io_running == "Slave_IO_Running");
  CHECK(m.sql_running == "Slave_SQL_Running");
  CHECK(m.seconds_behind == "Seconds_Behind_Master");
  CHECK(m.source_host == "Master_Host");
  CHECK(m.source_port == "Master_Port");
  CHECK(m.retrieved == "Gtid_IO_Pos");
  CHECK(m.executed.empty());
  ReplicaStatusColumns old = ReplicaStatusColumnsFor(kMySql8021);
  CHECK(old.io_running == "Slave_IO_Running");
  CHECK(old.retrieved == "Retrieved_Gtid_Set");
  CHECK(old.executed == "Executed_Gtid_Set");
  ReplicaStatusColumns y = ReplicaStatusColumnsFor(kMySql8036);
  CHECK(y.io_running == "Replica_IO_Running");
  CHECK(y.sql_running == "Replica_SQL_Running");
  CHECK(y.seconds_behind == "Seconds_Behind_Source");
  CHECK(y.source_host == "Source_Host");
  CHECK(y.source_port == "Source_Port");
  CHECK(y.last_io_error == "Last_IO_Error");
  CHECK(y.last_sql_errno == "Last_SQL_Errno");
}

}  // namespace
}  // namespace manage::mysql
