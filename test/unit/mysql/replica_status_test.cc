#include "mysql/replica_status.h"

#include <catch2/catch.hpp>

#include "fakes/fake_mysql.h"

namespace manage::mysql {
namespace {

const Dialect kMariaDb{Flavor::kMariaDb, {10, 11, 6}};
const Dialect kMySql{Flavor::kMySql, {8, 0, 36}};
const Dialect kOldMySql{Flavor::kMySql, {8, 0, 21}};

// A SHOW SLAVE STATUS row as MariaDB 10.11 prints it (subset of its 57 columns).
QueryResult MariaDbRow(const char* io, const char* sql, std::optional<std::string> behind) {
  return MakeResult(
      {"Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Slave_IO_Running",
       "Slave_SQL_Running", "Last_Errno", "Last_Error", "Seconds_Behind_Master", "Last_IO_Errno",
       "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error", "Using_Gtid", "Gtid_IO_Pos"},
      {Row{"", "10.0.0.5", "repl", "3306", io, sql, "0", "", behind, "2003",
           "error connecting to master", "0", "", "Slave_Pos", "0-1-42"}});
}

QueryResult MySqlRow() {
  return MakeResult(
      {"Replica_IO_State", "Source_Host", "Source_Port", "Replica_IO_Running",
       "Replica_SQL_Running", "Seconds_Behind_Source", "Last_IO_Errno", "Last_IO_Error",
       "Last_SQL_Errno", "Last_SQL_Error", "Retrieved_Gtid_Set", "Executed_Gtid_Set"},
      {Row{"Waiting for source to send event", "db-1", "3307", "Yes", "Yes", "0", "0", "", "1062",
           "Duplicate entry", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5",
           "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n8a94f357-aab4-11df-86ab-c80aa9429562:1"}});
}

TEST_CASE("ParseThreadState") {
  CHECK(ParseThreadState("Yes") == ThreadState::kYes);
  CHECK(ParseThreadState("Connecting") == ThreadState::kConnecting);
  CHECK(ParseThreadState("No") == ThreadState::kNo);
  CHECK(ParseThreadState("") == ThreadState::kNo);
  CHECK(ParseThreadState(std::nullopt) == ThreadState::kNo);
  CHECK(ParseThreadState("Preparing") == ThreadState::kNo);
}

TEST_CASE("ParseReplicaStatus reads MariaDB rows") {
  struct Case {
    const char* io;
    const char* sql;
    std::optional<std::string> behind;
    ThreadState want_io;
    ThreadState want_sql;
    bool running;
  };
  const Case cases[] = {
      {"Yes", "Yes", "0", ThreadState::kYes, ThreadState::kYes, true},
      {"Yes", "Yes", "17", ThreadState::kYes, ThreadState::kYes, true},
      {"Connecting", "Yes", std::nullopt, ThreadState::kConnecting, ThreadState::kYes, false},
      {"No", "No", std::nullopt, ThreadState::kNo, ThreadState::kNo, false},
      {"Yes", "No", std::nullopt, ThreadState::kYes, ThreadState::kNo, false},
  };
  for (const Case& c : cases) {
    INFO(c.io << "/" << c.sql);
    Result<ReplicaStatus> s = ParseReplicaStatus(MariaDbRow(c.io, c.sql, c.behind), kMariaDb);
    REQUIRE(s.ok());
    CHECK(s->configured);
    CHECK(s->io_running == c.want_io);
    CHECK(s->sql_running == c.want_sql);
    CHECK(s->Running() == c.running);
    if (c.behind) {
      CHECK(s->seconds_behind == std::stoll(*c.behind));
    } else {
      CHECK_FALSE(s->seconds_behind.has_value());
    }
    CHECK(s->source_host == "10.0.0.5");
    CHECK(s->source_port == 3306);
    CHECK(s->last_io_errno == 2003);
    CHECK(s->last_io_error == "error connecting to master");
    CHECK(s->gtid_io_pos == "0-1-42");
    CHECK(s->executed.empty());
  }
}

TEST_CASE("ParseReplicaStatus reads MySQL rows of either spelling") {
  Result<ReplicaStatus> s = ParseReplicaStatus(MySqlRow(), kMySql);
  REQUIRE(s.ok());
  CHECK(s->Running());
  CHECK(s->seconds_behind == 0);
  CHECK(s->source_host == "db-1");
  CHECK(s->source_port == 3307);
  CHECK(s->last_sql_errno == 1062);
  CHECK(s->last_sql_error == "Duplicate entry");
  CHECK(s->gtid_io_pos == "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
  CHECK(s->executed ==
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,8a94f357-aab4-11df-86ab-c80aa9429562:1");
  // An old MySQL parsing a new-style row, and MariaDB-style columns under MySQL 8.0.36.
  Result<ReplicaStatus> old = ParseReplicaStatus(MySqlRow(), kOldMySql);
  REQUIRE(old.ok());
  CHECK(old->source_host == "db-1");
  Result<ReplicaStatus> slave_cols = ParseReplicaStatus(MariaDbRow("Yes", "Yes", "3"), kMySql);
  REQUIRE(slave_cols.ok());
  CHECK(slave_cols->seconds_behind == 3);
}

TEST_CASE("ParseReplicaStatus edge cases") {
  Result<ReplicaStatus> empty = ParseReplicaStatus(QueryResult{}, kMariaDb);
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->configured);
  CHECK_FALSE(empty->Running());

  QueryResult reset = MariaDbRow("No", "No", std::nullopt);
  reset.rows[0][1] = "";  // RESET SLAVE without ALL leaves a row with no host
  Result<ReplicaStatus> after_reset = ParseReplicaStatus(reset, kMariaDb);
  REQUIRE(after_reset.ok());
  CHECK_FALSE(after_reset->configured);

  QueryResult bad_lag = MariaDbRow("Yes", "Yes", "soon");
  CHECK(ParseReplicaStatus(bad_lag, kMariaDb).status().code() == Code::kInternal);
  QueryResult no_io = MakeResult({"Master_Host", "Slave_SQL_Running"}, {Row{"h", "Yes"}});
  CHECK(ParseReplicaStatus(no_io, kMariaDb).status().code() == Code::kInternal);
}

TEST_CASE("ReplicaStatusResult round-trips through ParseReplicaStatus") {
  ReplicaStatus s;
  s.configured = true;
  s.io_running = ThreadState::kConnecting;
  s.sql_running = ThreadState::kYes;
  s.source_host = "db-2";
  s.source_port = 3306;
  s.last_io_errno = 2003;
  s.last_io_error = "cannot connect";
  s.gtid_io_pos = "0-2-9";
  for (const Dialect& d : {kMariaDb, kMySql, kOldMySql}) {
    Result<ReplicaStatus> back = ParseReplicaStatus(ReplicaStatusResult(d, s), d);
    REQUIRE(back.ok());
    CHECK(back->io_running == s.io_running);
    CHECK(back->sql_running == s.sql_running);
    CHECK(back->source_host == s.source_host);
    CHECK(back->last_io_errno == 2003);
    CHECK(back->gtid_io_pos == "0-2-9");
    CHECK_FALSE(back->seconds_behind.has_value());
  }
}

TEST_CASE("ReadGtidState runs the dialect's query") {
  FakeConnector connector;
  FakeMySql& server = connector.server();
  auto conn = connector.Connect({});
  REQUIRE(conn.ok());
  server.Reply(ReadGtidStateSql(kMariaDb),
               MakeResult({"@@GLOBAL.gtid_current_pos", "@@GLOBAL.gtid_binlog_pos",
                           "@@GLOBAL.gtid_slave_pos"},
                          {Row{"0-1-3,5-2-10", "0-1-3", std::nullopt}}));
  Result<GtidState> m = ReadGtidState(**conn, kMariaDb);
  REQUIRE(m.ok());
  CHECK(m->executed == "0-1-3,5-2-10");
  CHECK(m->binlog_pos == "0-1-3");
  CHECK(m->slave_pos.empty());

  server.Reply("SELECT @@GLOBAL.gtid_executed",
               OneValue("@@GLOBAL.gtid_executed", "uuid-a:1-5,\nuuid-b:1-3"));
  Result<GtidState> y = ReadGtidState(**conn, kMySql);
  REQUIRE(y.ok());
  CHECK(y->executed == "uuid-a:1-5,uuid-b:1-3");

  server.Reply("SELECT @@GLOBAL.gtid_executed", QueryResult{});
  CHECK(ReadGtidState(**conn, kMySql).status().code() == Code::kInternal);
  server.Fail("SELECT @@GLOBAL.gtid_executed", Status::Unavailable("(2006) gone"));
  CHECK(ReadGtidState(**conn, kMySql).status().code() == Code::kUnavailable);
}

TEST_CASE("ReadReplicaStatus, ReadReadOnly and SetReadOnly") {
  FakeConnector connector;
  FakeMySql& server = connector.server();
  auto conn = connector.Connect({});
  REQUIRE(conn.ok());
  server.Reply("SHOW SLAVE STATUS", MariaDbRow("Yes", "Yes", "1"));
  Result<ReplicaStatus> s = ReadReplicaStatus(**conn, kMariaDb);
  REQUIRE(s.ok());
  CHECK(s->Running());
  Result<ReplicaStatus> none = ReadReplicaStatus(**conn, kMySql);  // unscripted: no rows
  REQUIRE(none.ok());
  CHECK_FALSE(none->configured);

  struct Case {
    std::optional<std::string> value;
    std::optional<bool> want;
  };
  const Case cases[] = {{"1", true},    {"0", false},        {"ON", true},
                        {"OFF", false}, {"2", std::nullopt}, {std::nullopt, std::nullopt}};
  for (const Case& c : cases) {
    server.Reply("SELECT @@GLOBAL.read_only", OneValue("@@GLOBAL.read_only", c.value));
    Result<bool> ro = ReadReadOnly(**conn);
    CHECK(ro.ok() == c.want.has_value());
    if (c.want) CHECK(*ro == *c.want);
  }

  REQUIRE(SetReadOnly(**conn, kMariaDb, true).ok());
  REQUIRE(SetReadOnly(**conn, kMySql, true).ok());
  CHECK(server.Ran("SET GLOBAL read_only=ON"));
  CHECK(server.Ran("SET GLOBAL super_read_only=ON"));
  server.FailPrefix("SET GLOBAL", Status::FailedPrecondition("(1227) denied"));
  CHECK(SetReadOnly(**conn, kMariaDb, false).code() == Code::kFailedPrecondition);
}

TEST_CASE("WaitForGtid maps the function's result") {
  struct Case {
    Dialect dialect;
    const char* position;
    std::optional<std::string> reply;
    Code want;
  };
  const Case cases[] = {
      {kMariaDb, "0-1-5", "0", Code::kOk},
      {kMariaDb, "0-1-5", "-1", Code::kDeadlineExceeded},
      {kMariaDb, "0-1-5", std::nullopt, Code::kInternal},
      {kMariaDb, "0-1", "0", Code::kInvalidArgument},
      {kMySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "0", Code::kOk},
      {kMySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "1", Code::kDeadlineExceeded},
      {kMySql, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "-1", Code::kInternal},
  };
  for (const Case& c : cases) {
    INFO(c.position << " -> " << c.reply.value_or("NULL"));
    FakeConnector connector;
    connector.server().ReplyPrefix("SELECT ", OneValue("r", c.reply));
    auto conn = connector.Connect({});
    REQUIRE(conn.ok());
    Status s = WaitForGtid(**conn, c.dialect, c.position, std::chrono::seconds(3));
    CHECK(s.code() == c.want);
    if (c.want != Code::kInvalidArgument) {
      REQUIRE(connector.server().statements().size() == 1);
      CHECK(connector.server().statements()[0].ends_with("', 3)"));
    }
  }
}

}  // namespace
}  // namespace manage::mysql
