// One table, two implementations: the recorded Consul transcript is replayed
// against HttpConsul (over a scripted transport: requests must match what was
// sent, responses are what Consul answered) and against FakeConsul (whose
// state must produce the same answers on its own).
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "consul/consul.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_consul.h"
#include "fakes/fake_http.h"
#include "render.h"
#include "transcript.h"

namespace manage::consul {
namespace {

using namespace std::chrono_literals;
namespace t = transcript;

struct Step {
  std::string name;
  // What the transcript did outside this API (service checks); fake only.
  std::function<void(FakeConsul&)> setup;
  std::function<std::string(Consul&)> call;
  std::string method;  // what HttpConsul must send
  std::string path;
  std::string request_body;
  long status;  // what Consul answered
  std::string response;
  std::string want;
};

SessionSpec LockSpec(const std::string& name) { return {name, 10s, "release", 15s, std::nullopt}; }

SessionSpec TiedSpec() {
  return {"tied", 10s, "release", 0s,
          std::vector<std::string>{"serfHealth", "service:mysql-primary-node1"}};
}

ServiceInstance Instance(const std::string& id, const std::string& service) {
  return {id, service, "vm", "127.0.0.2", 3306, {}, false};
}

std::string Id(const std::string& id) { return "{\n    \"ID\": \"" + id + "\"\n}"; }

std::string NotFoundBody(const std::string& id) { return "Session id '" + id + "' not found"; }

const std::string kLockBody = R"({"Name":"mysql-primary-lock","TTL":"10s","Behavior":"release",)"
                              R"("LockDelay":"15s"})";
const std::string kTiedBody = R"({"Name":"tied","TTL":"10s","Behavior":"release","LockDelay":"0s",)"
                              R"("Checks":["serfHealth","service:mysql-primary-node1"]})";
const std::string kBackup =
    R"({"id":"mysql-backup-2026-11-23T04-00-00Z","dt":"2026-11-23T04:00:00.000000"})";
const std::string kHealthy = "mysql-node1 mysql vm 127.0.0.2:3306 passing";

std::string Kv(const std::string& value, const std::string& session, int lock_index) {
  return "key=mysql-primary value=" + value + " session=" + session +
         " lock_index=" + std::to_string(lock_index);
}

auto Queue(const char* id) {
  return [id](FakeConsul& fake) { fake.QueueSessionId(id); };
}

std::vector<Step> Steps() {
  const std::string s1 = t::kS1, s2 = t::kS2, s3 = t::kS3;
  const std::string kv = "/v1/kv/mysql-primary";
  return {
      {"#2 health before the check passes",
       [](FakeConsul& f) { f.RegisterService(Instance("mysql-node1", "mysql")); },
       [](Consul& c) { return Render(c.Health("mysql", true)); }, "GET",
       "/v1/health/service/mysql?passing=1", "", 200, "[]", ""},
      {"#4 health once passing",
       [](FakeConsul& f) { f.SetCheckStatus("service:mysql-node1", "passing"); },
       [](Consul& c) { return Render(c.Health("mysql", true)); }, "GET",
       "/v1/health/service/mysql?passing=1", "", 200, t::kHealthMysql, kHealthy},
      {"#5 health, all instances", nullptr,
       [](Consul& c) { return Render(c.Health("mysql", false)); }, "GET",
       "/v1/health/service/mysql", "", 200, t::kHealthMysql, kHealthy},
      {"#9 create session", Queue(t::kFirstSession),
       [](Consul& c) { return Render(c.CreateSession(LockSpec("mysql-primary-lock"))); }, "PUT",
       "/v1/session/create", kLockBody, 200, Id(t::kFirstSession), t::kFirstSession},
      {"create S1", Queue(t::kS1),
       [](Consul& c) { return Render(c.CreateSession(LockSpec("mysql-primary-lock"))); }, "PUT",
       "/v1/session/create", kLockBody, 200, Id(s1), s1},
      {"create S2", Queue(t::kS2),
       [](Consul& c) { return Render(c.CreateSession(LockSpec("mysql-primary-lock"))); }, "PUT",
       "/v1/session/create", kLockBody, 200, Id(s2), s2},
      {"#11 S1 acquires", nullptr,
       [=](Consul& c) { return Render(c.Acquire("mysql-primary", s1, "mysql-node1")); }, "PUT",
       kv + "?acquire=" + s1, "mysql-node1", 200, "true", "true"},
      {"#12 S2 cannot acquire a held lock", nullptr,
       [=](Consul& c) { return Render(c.Acquire("mysql-primary", s2, "mysql-node2")); }, "PUT",
       kv + "?acquire=" + s2, "mysql-node2", 200, "false", "false"},
      {"#13 get shows the holder", nullptr,
       [](Consul& c) { return Render(c.Get("mysql-primary")); }, "GET", kv, "", 200, t::kKvHeldByS1,
       Kv("mysql-node1", s1, 1)},
      {"#15 renew S1", nullptr, [=](Consul& c) { return Render(c.RenewSession(s1)); }, "PUT",
       "/v1/session/renew/" + s1, "", 200, t::kRenewS1, "ok"},
      {"#16 S1 releases", nullptr,
       [=](Consul& c) { return Render(c.Release("mysql-primary", s1, "")); }, "PUT",
       kv + "?release=" + s1, "", 200, "true", "true"},
      {"#17 released: no session, value cleared", nullptr,
       [](Consul& c) { return Render(c.Get("mysql-primary")); }, "GET", kv, "", 200, t::kKvReleased,
       Kv("", "", 1)},
      {"#18 no lock-delay after a release: S2 acquires", nullptr,
       [=](Consul& c) { return Render(c.Acquire("mysql-primary", s2, "mysql-node2")); }, "PUT",
       kv + "?acquire=" + s2, "mysql-node2", 200, "true", "true"},
      {"#19 destroy the holder S2", nullptr,
       [=](Consul& c) { return Render(c.DestroySession(s2)); }, "PUT", "/v1/session/destroy/" + s2,
       "", 200, "true", "ok"},
      {"#20 lock released, value kept", nullptr,
       [](Consul& c) { return Render(c.Get("mysql-primary")); }, "GET", kv, "", 200,
       t::kKvAfterDestroy, Kv("mysql-node2", "", 2)},
      {"create S3", Queue(t::kS3),
       [](Consul& c) { return Render(c.CreateSession(LockSpec("n3"))); }, "PUT",
       "/v1/session/create", R"({"Name":"n3","TTL":"10s","Behavior":"release","LockDelay":"15s"})",
       200, Id(s3), s3},
      {"#21 lock-delay after destroy: S3 cannot acquire", nullptr,
       [=](Consul& c) { return Render(c.Acquire("mysql-primary", s3, "mysql-node3")); }, "PUT",
       kv + "?acquire=" + s3, "mysql-node3", 200, "false", "false"},
      {"#22 renew a destroyed session", nullptr,
       [=](Consul& c) { return Render(c.RenewSession(s2)); }, "PUT", "/v1/session/renew/" + s2, "",
       404, NotFoundBody(s2), "NotFound"},
      {"#23 acquire with a destroyed session during lock-delay", nullptr,
       [=](Consul& c) { return Render(c.Acquire("mysql-primary", s2, "x")); }, "PUT",
       kv + "?acquire=" + s2, "x", 200, "false", "false"},
      {"#24 a session tied to a critical check",
       [](FakeConsul& f) { f.RegisterService(Instance("mysql-primary-node1", "mysql-primary")); },
       [](Consul& c) { return Render(c.CreateSession(TiedSpec())); }, "PUT", "/v1/session/create",
       kTiedBody, 500, "Check 'service:mysql-primary-node1' is in critical state",
       "FailedPrecondition"},
      {"#26 the same once the check passes",
       [](FakeConsul& f) {
         f.SetCheckStatus("service:mysql-primary-node1", "passing");
         f.QueueSessionId(t::kTiedSession);
       },
       [](Consul& c) { return Render(c.CreateSession(TiedSpec())); }, "PUT", "/v1/session/create",
       kTiedBody, 200, Id(t::kTiedSession), t::kTiedSession},
      {"#27-28 the check fails: the tied session is gone",
       [](FakeConsul& f) { f.SetCheckStatus("service:mysql-primary-node1", "critical"); },
       [](Consul& c) { return Render(c.RenewSession(t::kTiedSession)); }, "PUT",
       std::string("/v1/session/renew/") + t::kTiedSession, "", 404, NotFoundBody(t::kTiedSession),
       "NotFound"},
      {"#29 get a missing key", nullptr, [](Consul& c) { return Render(c.Get("does-not-exist")); },
       "GET", "/v1/kv/does-not-exist", "", 404, "", "NotFound"},
      {"#30 put", nullptr, [](Consul& c) { return Render(c.Put("mysql-last-backup", kBackup)); },
       "PUT", "/v1/kv/mysql-last-backup", kBackup, 200, "true", "ok"},
      {"#31 get it back", nullptr, [](Consul& c) { return Render(c.Get("mysql-last-backup")); },
       "GET", "/v1/kv/mysql-last-backup", "", 200, t::kKvLastBackup,
       "key=mysql-last-backup value=" + kBackup + " session= lock_index=0"},
      {"#32 check-and-set with a stale index", nullptr,
       [](Consul& c) { return Render(c.CheckAndSet("mysql-last-backup", "x", 1)); }, "PUT",
       "/v1/kv/mysql-last-backup?cas=1", "x", 200, "false", "false"},
      {"#34-35 health after deregistration",
       [](FakeConsul& f) { f.DeregisterService("mysql-node1"); },
       [](Consul& c) { return Render(c.Health("mysql", false)); }, "GET",
       "/v1/health/service/mysql", "", 200, "[]", ""},
      {"#37 renew an unknown session", nullptr,
       [](Consul& c) { return Render(c.RenewSession("00000000-0000-0000-0000-000000000000")); },
       "PUT", "/v1/session/renew/00000000-0000-0000-0000-000000000000", "", 404,
       NotFoundBody("00000000-0000-0000-0000-000000000000"), "NotFound"},
  };
}

TEST_CASE("HttpConsul replays the Consul transcript", "[consul][contract]") {
  http::FakeTransport transport;
  HttpConsul consul(&transport, ConsulAddress{});
  for (const Step& step : Steps()) {
    INFO(step.name);
    transport.Push(step.status, step.response);
    CHECK(step.call(consul) == step.want);
    REQUIRE(transport.requests().size() > 0);
    const http::Request& sent = transport.last();
    CHECK(sent.method == step.method);
    CHECK(sent.url == "http://consul:8500" + step.path);
    CHECK(sent.body == step.request_body);
    CHECK(transport.unanswered() == 0);
  }
}

TEST_CASE("FakeConsul behaves as the Consul transcript", "[consul][contract]") {
  sys::FakeClock clock;
  FakeConsul consul(clock, "vm");
  for (const Step& step : Steps()) {
    INFO(step.name);
    if (step.setup) step.setup(consul);
    CHECK(step.call(consul) == step.want);
  }
}

}  // namespace
}  // namespace manage::consul
