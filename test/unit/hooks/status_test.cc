// status: what an operator sees, collected from Consul and each node's mysqld
// over TCP as the replication user.
#include <rapidjson/document.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>

#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

// Runs `fn` with stdout redirected to a temporary file and returns what it wrote.
std::string CaptureStdout(const std::function<Status()>& fn, Status* status) {
  std::fflush(stdout);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  int saved = ::dup(STDOUT_FILENO);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(::fileno(tmp), STDOUT_FILENO) >= 0);
  *status = fn();
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

// Three nodes: kNode holds the lock, kOther is reachable, mysql-n3 is not.
struct StatusFixture : HookFixture {
  StatusFixture() {
    RegisterOther();
    HoldLockHere();
    consul.RegisterService({"mysql-n3", "mysql", "node0", "10.0.0.13", 3306, {}, false});
    db().FailConnect(Status::Unavailable("Can't connect to server on '10.0.0.13' (111)"));
    db().Reply(
        "SELECT @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_slave_pos",
        mysql::MakeResult({"a", "b", "c"}, {{"0-1-9", "0-1-9", ""}}));
    ScriptReadOnly(true);
  }
  std::string Run(const Args& args, Status* status) {
    return CaptureStdout([&] { return ShowStatus(deps, args); }, status);
  }
};

TEST_CASE("status lists every node with its role, as the replication user") {
  StatusFixture f;
  Status s;
  std::string out = f.Run({}, &s);
  REQUIRE(s.ok());
  CHECK(out.find("mysql-n3") != std::string::npos);
  CHECK(out.find("unreachable: Can't connect to server on '10.0.0.13' (111)") != std::string::npos);
  CHECK(out.find("primary lock: mysql-n1\n") != std::string::npos);
  CHECK(out.find("newest snapshot: (none)\n") != std::string::npos);
  CHECK(out.find(kReplPassword) == std::string::npos);
  REQUIRE(f.db().connects().size() == 3);
  for (const mysql::ConnectOptions& c : f.db().connects()) {
    CHECK(c.user == "repl");
    CHECK(c.socket.empty());
  }
  CHECK(f.db().connects()[1].host == kAddress);
  CHECK(f.Writes().empty());  // status changes nothing
}

TEST_CASE("status --json is valid JSON with one object per node") {
  StatusFixture f;
  Status s;
  std::string out = f.Run({"--json"}, &s);
  REQUIRE(s.ok());
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["primary"].GetString()) == kNode);
  const auto& nodes = doc["nodes"];
  REQUIRE(nodes.IsArray());
  REQUIRE(nodes.Size() == 3);
  CHECK(std::string(nodes[0]["name"].GetString()) == "mysql-n3");
  CHECK(nodes[0]["error"].IsString());
  CHECK(std::string(nodes[1]["role"].GetString()) == "primary");
  CHECK(std::string(nodes[1]["gtid"].GetString()) == "0-1-9");
  CHECK(nodes[1]["error"].IsNull());
  CHECK(std::string(nodes[2]["role"].GetString()) == "unassigned");
  CHECK(doc["snapshot"].IsNull());
  CHECK(out.find(kReplPassword) == std::string::npos);
}

TEST_CASE("status rejects unknown arguments") {
  HookFixture f;
  Status s;
  std::string out = CaptureStdout([&] { return ShowStatus(f.deps, {"--yaml"}); }, &s);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(out.empty());
}

}  // namespace
}  // namespace manage::hooks
