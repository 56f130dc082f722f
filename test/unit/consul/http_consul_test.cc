// HttpConsul details the transcript does not cover: headers, encoding, and how
// every kind of failure becomes a Status. Transcript replay is in contract_test.cc.
#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "consul/consul.h"
#include "fakes/fake_http.h"
#include "render.h"

namespace manage::consul {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Scripted {
  long status = 200;
  std::string body;
  std::optional<Status> error;  // set: the transport fails instead
};

Scripted Reply(long status, std::string body) { return {status, std::move(body), std::nullopt}; }
Scripted Fail(Status status) { return {0, "", std::move(status)}; }

ServiceRegistration Service() {
  return {"mysql-n1", "mysql", {}, 3306, "10.0.0.1", 7s, "passing", "notes"};
}

TEST_CASE("HttpConsul sends the token and timeout with every request", "[consul][http]") {
  http::FakeTransport transport;
  ConsulAddress address;
  address.base_url = "https://10.0.0.5:8501";
  address.token = "s3cr3t";
  address.timeout = 1234ms;
  HttpConsul consul(&transport, address);
  transport.Push(200, "true");
  REQUIRE(consul.Put("k", "v").ok());
  const http::Request& sent = transport.last();
  CHECK(sent.url == "https://10.0.0.5:8501/v1/kv/k");
  CHECK(sent.timeout == 1234ms);
  CHECK(sent.headers ==
        std::vector<std::pair<std::string, std::string>>{{"X-Consul-Token", "s3cr3t"}});

  HttpConsul anonymous(&transport, ConsulAddress{});
  transport.Push(200, "true");
  REQUIRE(anonymous.Put("k", "v").ok());
  CHECK(transport.last().headers.empty());
}

TEST_CASE("HttpConsul encodes keys, sessions and services into URLs", "[consul][http]") {
  struct Row {
    std::string name;
    std::function<std::string(Consul&)> call;
    std::string response;
    std::string want_method;
    std::string want_path;
  };
  const Row rows[] = {
      {"key with slashes and space", [](Consul& c) { return Render(c.Get("svc/my sql/leader")); },
       R"([{"Key":"svc/my sql/leader","Value":"eA=="}])", "GET", "/v1/kv/svc/my%20sql/leader"},
      {"list", [](Consul& c) { return Render(c.List("backups/")); }, "[]", "GET",
       "/v1/kv/backups/?recurse"},
      {"list everything", [](Consul& c) { return Render(c.List("")); }, "[]", "GET",
       "/v1/kv/?recurse"},
      {"cas", [](Consul& c) { return Render(c.CheckAndSet("a?b", "v", 42)); }, "true", "PUT",
       "/v1/kv/a%3Fb?cas=42"},
      {"acquire", [](Consul& c) { return Render(c.Acquire("k", "id&x=1", "v")); }, "true", "PUT",
       "/v1/kv/k?acquire=id%26x%3D1"},
      {"release", [](Consul& c) { return Render(c.Release("k", "id/1", "")); }, "true", "PUT",
       "/v1/kv/k?release=id%2F1"},
      {"delete", [](Consul& c) { return Render(c.Delete("k/v")); }, "true", "DELETE", "/v1/kv/k/v"},
      {"destroy", [](Consul& c) { return Render(c.DestroySession("a/b")); }, "true", "PUT",
       "/v1/session/destroy/a%2Fb"},
      {"health", [](Consul& c) { return Render(c.Health("my sql", false)); }, "[]", "GET",
       "/v1/health/service/my%20sql"},
      {"register", [](Consul& c) { return Render(c.RegisterAgentService(Service())); }, "", "PUT",
       "/v1/agent/service/register"},
      // As ContainerPilot sends it: the ':' of a check ID is not escaped.
      {"check update",
       [](Consul& c) { return Render(c.UpdateTtlCheck("service:my sql", "passing", "ok")); }, "",
       "PUT", "/v1/agent/check/update/service:my%20sql"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    http::FakeTransport transport;
    HttpConsul consul(&transport, ConsulAddress{});
    transport.Push(200, row.response);
    const std::string outcome = row.call(consul);
    CHECK(outcome != "Internal");
    CHECK(transport.last().method == row.want_method);
    CHECK(transport.last().url == "http://consul:8500" + row.want_path);
  }
}

TEST_CASE("HttpConsul Release sends the next value as the body", "[consul][http]") {
  http::FakeTransport transport;
  HttpConsul consul(&transport, ConsulAddress{});
  transport.Push(200, "true");
  CHECK(Render(consul.Release("mysql-primary", "s1", "mysql-n2")) == "true");
  CHECK(transport.last().method == "PUT");
  CHECK(transport.last().url == "http://consul:8500/v1/kv/mysql-primary?release=s1");
  CHECK(transport.last().body == "mysql-n2");
}

TEST_CASE("HttpConsul List sorts by key and treats 404 as empty", "[consul][http]") {
  http::FakeTransport transport;
  HttpConsul consul(&transport, ConsulAddress{});
  transport.Push(200, R"([{"Key":"b/2","Value":"Mg=="},{"Key":"b/1","Value":null}])");
  CHECK(Render(consul.List("b/")) ==
        "key=b/1 value= session= lock_index=0; key=b/2 value=2 session= lock_index=0");
  transport.Push(404, "");
  CHECK(Render(consul.List("none/")) == "");
}

// Each call against a scripted answer: the code, a telling piece of the message,
// and whether a request went out at all.
TEST_CASE("HttpConsul turns every failure into a clear Status", "[consul][http]") {
  struct Row {
    std::string name;
    std::function<Status(Consul&)> call;
    std::optional<Scripted> answer;  // nullopt: nothing may be sent
    Code want_code;
    std::string want_message;
  };
  auto get = [](Consul& c) { return c.Get("k").status(); };
  auto create = [](Consul& c) {
    return c.CreateSession({"lock", 10s, "release", 15s, std::nullopt}).status();
  };
  auto renew = [](Consul& c) { return c.RenewSession("sid"); };
  auto acquire = [](Consul& c) { return c.Acquire("k", "sid", "v").status(); };
  auto put = [](Consul& c) { return c.Put("k", "v"); };
  auto health = [](Consul& c) { return c.Health("mysql", true).status(); };
  auto heartbeat = [](Consul& c) { return c.UpdateTtlCheck("service:n1", "passing", "ok"); };
  auto reg = [](Consul& c) { return c.RegisterAgentService(Service()); };
  const std::string kNode = R"("Node":{"Node":"vm","Address":"127.0.0.1"})";
  const Row rows[] = {
      {"refused", get, Fail(Status::Unavailable("GET http://consul:8500/v1/kv/k: refused")),
       Code::kUnavailable, "Consul get key 'k': GET http://consul:8500/v1/kv/k: refused"},
      {"timeout", renew, Fail(Status::DeadlineExceeded("timed out")), Code::kDeadlineExceeded,
       "Consul renew session 'sid': timed out"},
      {"500 on get", get, Reply(500, "rpc error: no leader\n"), Code::kUnavailable,
       "get key 'k': HTTP 500: rpc error: no leader"},
      {"503 without a body", get, Reply(503, ""), Code::kUnavailable, "HTTP 503"},
      {"429", get, Reply(429, "slow down"), Code::kUnavailable, "HTTP 429"},
      {"403", get, Reply(403, "Permission denied"), Code::kFailedPrecondition,
       "HTTP 403: Permission denied"},
      {"400", get, Reply(400, "Bad request"), Code::kInvalidArgument, "HTTP 400"},
      {"302", get, Reply(302, ""), Code::kInternal, "unexpected response"},
      {"404", get, Reply(404, ""), Code::kNotFound, "no such key"},
      {"empty array", get, Reply(200, "[]"), Code::kNotFound, "no such key"},
      {"empty body", get, Reply(200, ""), Code::kInternal, "malformed JSON from Consul"},
      {"garbage", get, Reply(200, "<html>oops</html>"), Code::kInternal,
       "get key 'k': malformed JSON from Consul"},
      {"object for array", get, Reply(200, R"({"Key":"k"})"), Code::kInternal,
       "kv is not an array"},
      {"number for Value", get, Reply(200, R"([{"Key":"k","Value":7}])"), Code::kInternal,
       "kv[0].Value is not a string"},
      {"empty key", [](Consul& c) { return c.Get("").status(); }, std::nullopt,
       Code::kInvalidArgument, "key must not be empty"},
      {"tied check critical", create,
       Reply(500, "Check 'service:mysql-primary-node1' is in critical state"),
       Code::kFailedPrecondition, "Check 'service:mysql-primary-node1' is in critical state"},
      {"no leader on create", create, Reply(500, "No cluster leader"), Code::kUnavailable,
       "No cluster leader"},
      {"400 on create", create,
       Reply(400, "Request decode failed: invalid character 'o' in literal null"),
       Code::kInvalidArgument, "Request decode failed"},
      {"ID of the wrong type", create, Reply(200, R"({"ID": 1})"), Code::kInternal,
       "session.ID is not a string"},
      {"bad spec",
       [](Consul& c) {
         return c.CreateSession({"x", 1s, "release", 0s, {}}).status();
       },
       std::nullopt, Code::kInvalidArgument, "TTL"},
      {"renew unknown", renew, Reply(404, "Session id 'sid' not found"), Code::kNotFound,
       "Session id 'sid' not found"},
      {"renew no session", [](Consul& c) { return c.RenewSession(""); }, std::nullopt,
       Code::kInvalidArgument, "session ID must not be empty"},
      {"acquire with a vanished session", acquire, Reply(500, "invalid session \"sid\""),
       Code::kNotFound, "invalid session"},
      {"acquire on a 500", acquire, Reply(500, "rpc error"), Code::kUnavailable, "HTTP 500"},
      {"acquire answers a string", acquire, Reply(200, "\"true\""), Code::kInternal,
       "expected true or false"},
      {"put refused", put, Reply(200, "false"), Code::kAborted, "refused"},
      {"put empty answer", put, Reply(200, ""), Code::kInternal, "malformed JSON"},
      {"health 500", health, Reply(500, "boom"), Code::kUnavailable, "health of service 'mysql'"},
      {"health port as string", health,
       Reply(200, "[{" + kNode + R"(,"Service":{"ID":"a","Port":"3306"},"Checks":[]}])"),
       Code::kInternal, "health[0].Service.Port is not a port number"},
      {"health checks not objects", health,
       Reply(200, "[{" + kNode + R"(,"Service":{"ID":"a"},"Checks":["passing"]}])"),
       Code::kInternal, "health[0].Checks[0] is not an object"},
      {"heartbeat for a check the agent lost", heartbeat,
       Reply(500, "CheckID \"service:n1\" does not have associated TTL"), Code::kNotFound,
       "does not have associated TTL"},
      {"heartbeat on a 500", heartbeat, Reply(500, "boom"), Code::kUnavailable, "HTTP 500"},
      {"register refused", reg, Reply(400, "Invalid check: TTL must be > 0 for TTL checks"),
       Code::kInvalidArgument, "register service 'mysql-n1'"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    http::FakeTransport transport;
    HttpConsul consul(&transport, ConsulAddress{});
    if (row.answer && row.answer->error) transport.PushError(*row.answer->error);
    if (row.answer && !row.answer->error) transport.Push(row.answer->status, row.answer->body);
    const Status status = row.call(consul);
    CHECK(transport.requests().size() == (row.answer ? 1u : 0u));
    REQUIRE_FALSE(status.ok());
    CHECK(CodeName(status.code()) == std::string(CodeName(row.want_code)));
    INFO("message: " << status.message());
    CHECK(Contains(status.message(), row.want_message));
  }
}

}  // namespace
}  // namespace manage::consul
