#include "fakes/fake_mysql.h"

#include <catch2/catch.hpp>

namespace manage::mysql {
namespace {

std::string Answer(Connection& conn, const std::string& sql) {
  Result<QueryResult> r = conn.Query(sql);
  if (!r.ok()) return r.status().ToString();
  return r->Get(0, "v").value_or("<none>");
}

TEST_CASE("FakeMySql picks the most specific live rule") {
  FakeConnector connector;
  FakeMySql& server = connector.server();
  server.ReplyPrefix("SELECT", OneValue("v", "prefix"));
  server.ReplyPrefix("SELECT @@", OneValue("v", "longer prefix"));
  server.Reply("SELECT @@a", OneValue("v", "exact"));
  server.Reply("SELECT @@b", OneValue("v", "once"), 1);
  server.Fail("SELECT @@c", Status::Unavailable("down"), 2);
  auto conn = connector.Connect({});
  REQUIRE(conn.ok());

  struct Step {
    const char* sql;
    const char* want;
  };
  const Step steps[] = {
      {"SELECT 1", "prefix"},
      {"SELECT @@x", "longer prefix"},
      {"SELECT @@a", "exact"},
      {"SELECT @@b", "once"},
      {"SELECT @@b", "longer prefix"},
      {"SELECT @@c", "Unavailable: down"},
      {"SELECT @@c", "Unavailable: down"},
      {"SELECT @@c", "longer prefix"},
      {"SET x=1", "<none>"},
  };
  for (const Step& s : steps) {
    INFO(s.sql);
    CHECK(Answer(**conn, s.sql) == s.want);
  }
  CHECK(server.statements().size() == std::size(steps));
  CHECK(server.Count("SELECT @@c") == 3);
  CHECK(server.Count("SELECT @@", true) == 7);
  CHECK(server.Ran("SET x=1"));
  CHECK_FALSE(server.Ran("SET x"));

  server.Reply("SELECT @@a", OneValue("v", "override"));
  CHECK(Answer(**conn, "SELECT @@a") == "override");
  server.ClearStatements();
  CHECK(server.statements().empty());
}

TEST_CASE("FakeMySql unscripted statements and connection failures") {
  FakeConnector connector;
  FakeMySql& server = connector.server();
  server.SetUnscripted(Status::Internal("unscripted"));
  server.FailConnect(Status::Unavailable("(2002) no socket"), 2);
  ConnectOptions options;
  options.socket = "/run/mysqld/mysqld.sock";
  CHECK(connector.Connect(options).status().code() == Code::kUnavailable);
  CHECK(connector.Connect(options).status().code() == Code::kUnavailable);
  auto conn = connector.Connect(options);
  REQUIRE(conn.ok());
  REQUIRE(server.connects().size() == 3);
  CHECK(server.connects()[2].socket == "/run/mysqld/mysqld.sock");
  CHECK(server.open_connections() == 1);
  CHECK((*conn)->ServerVersion() == "10.11.6-MariaDB-0+deb12u1-log");
  CHECK((*conn)->Execute("SET x=1").code() == Code::kInternal);

  server.DropConnections();
  CHECK((*conn)->Execute("SELECT 1").code() == Code::kUnavailable);
  server.set_server_version("8.0.36");
  auto fresh = connector.Connect(options);
  REQUIRE(fresh.ok());
  CHECK((*fresh)->ServerVersion() == "8.0.36");
  CHECK(server.open_connections() == 2);
  conn = Status::Aborted("closed");
  CHECK(server.open_connections() == 1);
}

}  // namespace
}  // namespace manage::mysql
