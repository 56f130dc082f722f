// FakeConsul's own semantics beyond the transcript: time, checks, nodes and
// failure injection.
#include "fakes/fake_consul.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "fakes/fake_clock.h"
#include "render.h"

namespace manage::consul {
namespace {

using namespace std::chrono_literals;

SessionSpec Spec(std::chrono::seconds ttl, std::chrono::seconds lock_delay,
                 std::string behavior = "release") {
  return {"lock", ttl, std::move(behavior), lock_delay, std::nullopt};
}

struct Fixture {
  sys::FakeClock clock;
  FakeConsul consul{clock};

  std::string Session(SessionSpec spec) {
    Result<std::string> id = consul.CreateSession(spec);
    REQUIRE(id.ok());
    return *id;
  }
};

TEST_CASE("FakeConsul invalidates a session at twice its TTL", "[consul][fake]") {
  struct Row {
    std::chrono::seconds ttl;
    std::chrono::milliseconds renew_at;  // 0: never renewed
    std::chrono::milliseconds check_at;
    bool alive;
  };
  const Row rows[] = {
      {10s, 0ms, 19999ms, true}, {10s, 0ms, 20s, false}, {10s, 15s, 34999ms, true},
      {10s, 15s, 35s, false},    {0s, 0ms, 1000h, true}, {25s, 0ms, 49s, true},
      {25s, 0ms, 50s, false},    {25s, 49s, 98s, true},
  };
  for (const Row& row : rows) {
    INFO("ttl=" << row.ttl.count() << "s renew_at=" << row.renew_at.count()
                << "ms check_at=" << row.check_at.count() << "ms");
    Fixture f;
    const std::string id = f.Session(Spec(row.ttl, 15s));
    if (row.renew_at.count() > 0) {
      f.clock.Advance(row.renew_at);
      REQUIRE(f.consul.RenewSession(id).ok());
    }
    f.clock.Advance(row.check_at - row.renew_at);
    CHECK(f.consul.SessionExists(id) == row.alive);
    CHECK(Render(f.consul.RenewSession(id)) == (row.alive ? "ok" : "NotFound"));
  }
}

// S1 holds the lock, then is invalidated; when can S2 take it?
TEST_CASE("FakeConsul applies lock-delay from the moment of invalidation", "[consul][fake]") {
  enum How { kDestroy, kExpire, kCheckFails, kRelease };
  struct Row {
    How how;
    std::string behavior;
    std::chrono::seconds lock_delay;
    std::chrono::milliseconds wait;  // after the invalidation
    std::string want_acquire;
    std::string want_key;  // the key afterwards, "" when deleted
  };
  const Row rows[] = {
      {kDestroy, "release", 15s, 0ms, "false", "value=v1 session="},
      {kDestroy, "release", 15s, 14999ms, "false", "value=v1 session="},
      {kDestroy, "release", 15s, 15s, "true", "value=v2 session=S2"},
      {kDestroy, "release", 0s, 0ms, "true", "value=v2 session=S2"},
      {kDestroy, "release", 120s, 59999ms, "false", "value=v1 session="},  // capped at 60s
      {kDestroy, "release", 120s, 60s, "true", "value=v2 session=S2"},
      {kDestroy, "delete", 15s, 0ms, "false", ""},
      {kDestroy, "delete", 15s, 15s, "true", "value=v2 session=S2"},
      {kExpire, "release", 15s, 14s, "false", "value=v1 session="},
      {kExpire, "release", 15s, 15s, "true", "value=v2 session=S2"},
      {kExpire, "delete", 15s, 0ms, "false", ""},
      {kCheckFails, "release", 15s, 0ms, "false", "value=v1 session="},
      {kCheckFails, "release", 0s, 0ms, "true", "value=v2 session=S2"},
      {kRelease, "release", 15s, 0ms, "true", "value=v2 session=S2"},
  };
  for (const Row& row : rows) {
    INFO("how=" << row.how << " behavior=" << row.behavior << " lock_delay="
                << row.lock_delay.count() << "s wait=" << row.wait.count() << "ms");
    Fixture f;
    f.consul.RegisterService({"db1", "db", "", "10.0.0.1", 3306, {}, true});
    SessionSpec spec = Spec(10s, row.lock_delay, row.behavior);
    spec.checks = std::vector<std::string>{"service:db1"};
    f.consul.QueueSessionId("S1");
    const std::string s1 = f.Session(spec);
    REQUIRE(Render(f.consul.Acquire("k", s1, "v1")) == "true");
    switch (row.how) {
      case kDestroy:
        REQUIRE(f.consul.DestroySession(s1).ok());
        break;
      case kExpire:
        f.clock.Advance(20s);
        break;  // 2×TTL
      case kCheckFails:
        f.consul.SetCheckStatus("service:db1", "critical");
        break;
      case kRelease:
        REQUIRE(Render(f.consul.Release("k", s1, "")) == "true");
        break;
    }
    f.clock.Advance(row.wait);
    f.consul.QueueSessionId("S2");
    const std::string s2 = f.Session(Spec(10s, 15s));
    CHECK(Render(f.consul.Acquire("k", s2, "v2")) == row.want_acquire);
    const std::optional<KvPair> pair = f.consul.Peek("k");
    CHECK((pair ? "value=" + pair->value + " session=" + pair->session : "") == row.want_key);
  }
}

TEST_CASE("FakeConsul ties sessions to checks", "[consul][fake]") {
  Fixture f;
  f.consul.RegisterService({"db1", "db", "", "10.0.0.1", 3306, {}, true});
  const std::string node_tied = f.Session(Spec(0s, 0s));  // default: serfHealth
  SessionSpec tied_spec = Spec(0s, 0s);
  tied_spec.checks = std::vector<std::string>{"serfHealth", "service:db1"};
  const std::string service_tied = f.Session(tied_spec);
  SessionSpec untied_spec = Spec(0s, 0s);
  untied_spec.checks = std::vector<std::string>{};
  const std::string untied = f.Session(untied_spec);

  f.consul.SetCheckStatus("service:db1", "warning");
  CHECK(f.consul.SessionCount() == 3);
  f.consul.DeregisterService("db1");
  CHECK(f.consul.SessionExists(node_tied));
  CHECK_FALSE(f.consul.SessionExists(service_tied));
  f.consul.SetCheckStatus("serfHealth", "critical");
  CHECK_FALSE(f.consul.SessionExists(node_tied));
  CHECK(f.consul.SessionExists(untied));

  // Creating a session tied to a failing or missing check is refused.
  Result<std::string> refused = f.consul.CreateSession(Spec(10s, 0s));
  CHECK(Render(refused) == "FailedPrecondition");
  CHECK(refused.status().message().find("Check 'serfHealth' is in critical state") !=
        std::string::npos);
  SessionSpec missing_spec = Spec(0s, 0s);
  missing_spec.checks = std::vector<std::string>{"service:db1"};
  Result<std::string> missing = f.consul.CreateSession(missing_spec);
  CHECK(missing.status().message().find("Missing check") != std::string::npos);
}

TEST_CASE("FakeConsul agents on other nodes have their own serfHealth", "[consul][fake]") {
  Fixture f;
  std::unique_ptr<Consul> node2 = f.consul.AgentOn("node2");
  Result<std::string> s1 = f.consul.CreateSession(Spec(10s, 0s));
  Result<std::string> s2 = node2->CreateSession(Spec(10s, 0s));
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(Render(node2->Acquire("k", *s2, "node2")) == "true");
  f.consul.SetCheckStatus("serfHealth", "critical", "node2");
  CHECK(f.consul.SessionExists(*s1));
  CHECK_FALSE(f.consul.SessionExists(*s2));
  CHECK(Render(f.consul.Acquire("k", *s1, "node1")) == "true");
  REQUIRE(f.consul.calls().size() == 4);
  CHECK(f.consul.calls()[1].node == "node2");
  CHECK(f.consul.calls()[3].node == "node1");
}

TEST_CASE("FakeConsul health follows checks and nodes", "[consul][fake]") {
  Fixture f;
  f.consul.RegisterService({"mysql-n1", "mysql", "", "10.0.0.1", 3306, {"primary"}, true});
  f.consul.RegisterService({"mysql-n2", "mysql", "node2", "10.0.0.2", 3306, {}, true});
  f.consul.RegisterService({"mysql-n3", "mysql", "node3", "10.0.0.3", 3306, {}, false});
  f.consul.RegisterService({"other", "backup", "node2", "10.0.0.2", 9000, {}, true});
  const std::string all =
      "mysql-n1 mysql node1 10.0.0.1:3306 #primary passing; "
      "mysql-n2 mysql node2 10.0.0.2:3306 passing; "
      "mysql-n3 mysql node3 10.0.0.3:3306 failing";
  CHECK(Render(f.consul.Health("mysql", false)) == all);
  CHECK(Render(f.consul.Health("mysql", true)) ==
        "mysql-n1 mysql node1 10.0.0.1:3306 #primary passing; "
        "mysql-n2 mysql node2 10.0.0.2:3306 passing");
  f.consul.SetCheckStatus("serfHealth", "critical", "node2");
  f.consul.SetCheckStatus("service:mysql-n3", "passing", "node3");
  CHECK(Render(f.consul.Health("mysql", true)) ==
        "mysql-n1 mysql node1 10.0.0.1:3306 #primary passing; "
        "mysql-n3 mysql node3 10.0.0.3:3306 passing");
  CHECK(Render(f.consul.Health("nothing", false)) == "");
}

TEST_CASE("FakeConsul KV keeps Consul's indexes", "[consul][fake]") {
  Fixture f;
  const std::string s = f.Session(Spec(10s, 0s));
  CHECK(Render(f.consul.CheckAndSet("k", "a", 0)) == "true");
  CHECK(Render(f.consul.CheckAndSet("k", "b", 0)) == "false");  // 0: only if absent
  const uint64_t index = f.consul.Peek("k")->modify_index;
  CHECK(Render(f.consul.CheckAndSet("k", "c", index + 1)) == "false");
  CHECK(Render(f.consul.CheckAndSet("k", "c", index)) == "true");
  CHECK(f.consul.Peek("k")->modify_index > index);

  CHECK(Render(f.consul.Acquire("k", s, "held")) == "true");
  CHECK(Render(f.consul.Acquire("k", s, "again")) == "true");  // idempotent for the holder
  CHECK(Render(f.consul.Get("k")) == "key=k value=again session=" + s + " lock_index=1");
  REQUIRE(f.consul.Put("k", "plain").ok());  // a plain write keeps the holder
  CHECK(Render(f.consul.Get("k")) == "key=k value=plain session=" + s + " lock_index=1");
  CHECK(Render(f.consul.Release("k", "someone-else", "")) == "false");
  CHECK(Render(f.consul.Release("missing", s, "")) == "false");
  // The release's body becomes the value, as in Consul (kvsUnlockTxn).
  CHECK(Render(f.consul.Release("k", s, "next")) == "true");
  CHECK(Render(f.consul.Get("k")) == "key=k value=next session= lock_index=1");
  CHECK(Render(f.consul.Acquire("k", s, "held")) == "true");
  CHECK(Render(f.consul.Acquire("k", "no-such-session", "x")) == "NotFound");

  REQUIRE(f.consul.Put("a/2", "2").ok());
  REQUIRE(f.consul.Put("a/1", "1").ok());
  REQUIRE(f.consul.Put("ab", "x").ok());
  CHECK(Render(f.consul.List("a/")) ==
        "key=a/1 value=1 session= lock_index=0; key=a/2 value=2 session= lock_index=0");
  CHECK(Render(f.consul.List("zzz")) == "");
  REQUIRE(f.consul.Delete("k").ok());
  REQUIRE(f.consul.Delete("k").ok());  // deleting a missing key is fine
  CHECK(Render(f.consul.Get("k")) == "NotFound");
  CHECK(Render(f.consul.Get("")) == "InvalidArgument");
  CHECK(Render(f.consul.Put("", "x")) == "InvalidArgument");
  CHECK(Render(f.consul.CreateSession(Spec(5s, 0s))) == "InvalidArgument");
}

TEST_CASE("FakeConsul injects failures and logs calls", "[consul][fake]") {
  Fixture f;
  const std::string s = f.Session(Spec(10s, 0s));
  f.consul.ClearCalls();

  SECTION("any call, a given number of times") {
    f.consul.FailNext(2, Status::Unavailable("connection refused"));
    CHECK(Render(f.consul.Get("k")) == "Unavailable");
    CHECK(Render(f.consul.Put("k", "v")) == "Unavailable");
    CHECK(Render(f.consul.Put("k", "v")) == "ok");
    CHECK(f.consul.CallLog() == std::vector<std::string>{"Get k", "Put k", "Put k"});
  }
  SECTION("one method only; the request never applied") {
    f.consul.FailNext(1, Status::DeadlineExceeded("timeout"), "Acquire");
    CHECK(Render(f.consul.RenewSession(s)) == "ok");
    CHECK(Render(f.consul.Acquire("k", s, "v")) == "DeadlineExceeded");
    CHECK_FALSE(f.consul.Peek("k").has_value());
    CHECK(Render(f.consul.Acquire("k", s, "v")) == "true");
  }
  SECTION("applied, but the reply was lost") {
    f.consul.FailNext(1, Status::DeadlineExceeded("timeout"), "Acquire",
                      FakeConsul::Inject::kAfterApply);
    CHECK(Render(f.consul.Acquire("k", s, "v")) == "DeadlineExceeded");
    REQUIRE(f.consul.Peek("k").has_value());
    CHECK(f.consul.Peek("k")->session == s);
  }
  SECTION("cleared") {
    f.consul.FailNext(100, Status::Unavailable("partitioned"));
    CHECK(Render(f.consul.Health("mysql", true)) == "Unavailable");
    f.consul.ClearFailures();
    CHECK(Render(f.consul.Health("mysql", true)) == "");
  }
}

}  // namespace
}  // namespace manage::consul
