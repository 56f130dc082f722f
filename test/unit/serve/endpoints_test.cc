// The endpoints as a table: every path, method and query, fresh and stale
// facts; JSON that parses; no secret in any answer.
#include "serve/endpoints.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include "unit/serve/facts_fixture.h"

namespace manage::serve {
namespace {

constexpr char kReplPassword[] = "repl-Secret-2";
constexpr char kAppPassword[] = "app-Secret-1";

struct EndpointsFixture {
  EndpointsFixture() {
    Env env = {{"NODE_IP", "10.0.0.12"},
               {"MYSQL_USER", "app"},
               {"MYSQL_PASSWORD", kAppPassword},
               {"MYSQL_REPL_USER", "repl"},
               {"MYSQL_REPL_PASSWORD", kReplPassword},
               {"HEALTH_INTERVAL", "2"}};
    auto loaded = LoadConfig(env, HostFacts{"n2", "", 4096});
    REQUIRE(loaded.ok());
    config = *loaded;
    SetLocal(Replica());
  }
  void SetLocal(LocalFacts f) {
    view.local = std::make_shared<const LocalFacts>(f);
    view.now = f.taken + std::chrono::milliseconds(500);
  }
  Response Get(const std::string& path, const std::string& method = "GET") {
    Request req;
    req.method = method;
    auto q = path.find('?');
    req.path = path.substr(0, q);
    if (q != std::string::npos) {
      std::string query = path.substr(q + 1);
      size_t start = 0;
      while (start <= query.size()) {
        size_t amp = query.find('&', start);
        std::string part = query.substr(start, amp == std::string::npos ? amp : amp - start);
        size_t eq = part.find('=');
        req.query.emplace_back(part.substr(0, eq),
                               eq == std::string::npos ? "" : part.substr(eq + 1));
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    view.config = &config;
    return Respond(req, view);
  }

  Config config;
  View view;
};

TEST_CASE("each path and query answers its status") {
  EndpointsFixture f;
  struct Row {
    const char* path;
    int replica, primary;
  };
  const Row rows[] = {
      {"/primary", 503, 200},
      {"/replica", 200, 503},
      {"/replica?lag=2", 200, 503},
      {"/replica?lag=1", 503, 503},
      {"/replica?lag=0", 503, 503},
      {"/read-only", 200, 200},
      {"/read-only?lag=1", 503, 200},
      {"/health", 200, 200},
      {"/node", 200, 200},
      {"/metrics", 200, 200},
      {"/", 200, 200},
      {"/cluster", 503, 503},  // nothing collected yet
      {"/nope", 404, 404},
      {"/primary/", 404, 404},
      {"", 404, 404},
      {"/replica?lag=", 400, 400},
      {"/replica?lag=abc", 400, 400},
      {"/replica?lag=-1", 400, 400},
      {"/replica?lag=1.5", 400, 400},
      {"/replica?lag=86401", 400, 400},
      {"/replica?lag=99999999999999999999", 400, 400},
      {"/replica?lag=1&lag=2", 400, 400},
      {"/replica?lga=1", 400, 400},
      {"/primary?lag=1", 400, 400},
      {"/health?x", 400, 400},
      {"/metrics?format=json", 400, 400},
  };
  for (const Row& row : rows) {
    CAPTURE(row.path);
    f.SetLocal(Replica());
    CHECK(f.Get(row.path).status == row.replica);
    f.SetLocal(Primary());
    CHECK(f.Get(row.path).status == row.primary);
  }
}

TEST_CASE("HEAD and OPTIONS answer like GET, without a body; other methods 405") {
  EndpointsFixture f;
  for (const char* path : {"/primary", "/replica", "/health", "/metrics", "/nope"}) {
    CAPTURE(path);
    Response get = f.Get(path);
    Response head = f.Get(path, "HEAD");
    CHECK(head.status == get.status);
    Response options = f.Get(path, "OPTIONS");
    CHECK(options.status == get.status);
    CHECK(options.body.empty());
    CHECK(options.headers == HeaderList{{"Allow", "GET, HEAD, OPTIONS"}});
  }
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "get", ""}) {
    CAPTURE(method);
    Response r = f.Get("/primary", method);
    CHECK(r.status == 405);
    CHECK(r.headers == HeaderList{{"Allow", "GET, HEAD, OPTIONS"}});
  }
}

TEST_CASE("stale facts fail every check, and say why") {
  EndpointsFixture f;
  f.SetLocal(Primary());
  f.view.now = f.view.local->taken + std::chrono::milliseconds(2001);
  for (const char* path : {"/primary", "/replica", "/read-only", "/health"}) {
    Response r = f.Get(path);
    CHECK(r.status == 503);
    CHECK_THAT(r.body, Catch::Contains("ms old"));
  }
  f.view.local = nullptr;
  CHECK(f.Get("/health").status == 503);
  CHECK(f.Get("/node").status == 503);
  CHECK(f.Get("/metrics").status == 200);
}

TEST_CASE("/node is this node as status shows it, with its checks") {
  EndpointsFixture f;
  Response r = f.Get("/node");
  REQUIRE(r.content_type == "application/json");
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["node"]["name"].GetString()) == "mysql-n2");
  CHECK(std::string(doc["node"]["role"].GetString()) == "replica");
  CHECK(doc["node"]["lag_seconds"].GetInt() == 2);
  CHECK(doc["node"]["read_only"].GetBool());
  CHECK(std::string(doc["primary"].GetString()) == "mysql-n1");
  CHECK(std::string(doc["replication"]["io_running"].GetString()) == "Yes");
  CHECK(doc["checks"]["replica"].GetBool());
  CHECK_FALSE(doc["checks"]["primary"].GetBool());
  CHECK(doc["snapshot"].IsNull());
  CHECK(doc["history"].IsArray());
}

TEST_CASE("/cluster is manage status --json once collected") {
  EndpointsFixture f;
  ClusterFacts c;
  c.taken = f.view.now - std::chrono::seconds(3);
  c.report = ops::StatusReport{};
  c.report->service = "mysql";
  c.report->primary = "mysql-n1";
  ops::NodeRow row;
  row.name = "mysql-n1";
  row.role = "primary";
  c.report->nodes.push_back(row);
  f.view.cluster = std::make_shared<const ClusterFacts>(c);
  Response r = f.Get("/cluster");
  CHECK(r.status == 200);
  CHECK(r.body == ops::FormatJson(*c.report));
  CHECK(r.headers == HeaderList{{"Age", "3"}});
  c.report.reset();
  c.error = "Consul: connection refused";
  f.view.cluster = std::make_shared<const ClusterFacts>(c);
  r = f.Get("/cluster");
  CHECK(r.status == 503);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK_THAT(doc["error"].GetString(), Catch::Contains("connection refused"));
}

TEST_CASE("no answer holds a password") {
  EndpointsFixture f;
  for (const LocalFacts& facts : {Replica(), Primary()}) {
    f.SetLocal(facts);
    for (const char* path : {"/", "/primary", "/replica", "/read-only", "/health", "/node",
                             "/cluster", "/metrics", "/nope", "/replica?lag=x"}) {
      std::string body = f.Get(path).body;
      CHECK(body.find(kReplPassword) == std::string::npos);
      CHECK(body.find(kAppPassword) == std::string::npos);
    }
  }
}

TEST_CASE("the status page refreshes every health interval and names the service") {
  EndpointsFixture f;
  Response r = f.Get("/");
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK_THAT(r.body, Catch::Contains("<title>mysql: manage</title>"));
  CHECK_THAT(r.body, Catch::Contains("const refreshMs = 2000;"));
  CHECK_THAT(r.body, Catch::Contains("fetch(\"/cluster\""));
  CHECK(r.body.find("http://") == std::string::npos);  // no external assets
  CHECK(r.body.find("https://") == std::string::npos);
}

}  // namespace
}  // namespace manage::serve
