// The load balancer checks over every fact that decides them.
#include "serve/checks.h"

#include <catch2/catch.hpp>

#include "unit/serve/facts_fixture.h"

namespace manage::serve {
namespace {

TEST_CASE("primary: only the lock holder that is writable") {
  struct Row {
    const char* name;
    void (*change)(LocalFacts&);
    bool ok;
    const char* reason;
  };
  const Row rows[] = {
      {"holder, writable", [](LocalFacts&) {}, true, "primary, writable"},
      {"holder, still read-only", [](LocalFacts& f) { f.read_only = true; }, false, "read-only"},
      {"holder, read_only unknown", [](LocalFacts& f) { f.read_only.reset(); }, false, "read-only"},
      {"another session holds it",
       [](LocalFacts& f) {
         f.lock_mine = false;
         f.lock_holder = "mysql-n1";
       },
       false, "mysql-n1 holds the lock"},
      {"lock free",
       [](LocalFacts& f) {
         f.lock_mine = false;
         f.lock_held = false;
       },
       false, "the lock is free"},
      {"Consul down",
       [](LocalFacts& f) {
         f.consul_up = false;
         f.consul_error = "connection refused";
       },
       false, "connection refused"},
      {"mysqld down",
       [](LocalFacts& f) {
         f.mysqld_up = false;
         f.mysqld_error = "gone";
       },
       false, "mysqld does not answer: gone"},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      LocalFacts f = Primary();
      row.change(f);
      Verdict v = CheckPrimary(f);
      CHECK(v.ok == row.ok);
      CHECK_THAT(v.reason, Catch::Contains(row.reason));
    }
  }
}

TEST_CASE("replica: following the holder, both threads, read-only, within the lag") {
  struct Row {
    const char* name;
    void (*change)(LocalFacts&);
    int64_t max_lag;
    bool ok;
    const char* reason;
  };
  const Row rows[] = {
      {"healthy", [](LocalFacts&) {}, 30, true, "replica of mysql-n1, 2s behind"},
      {"lag equal to the bound", [](LocalFacts&) {}, 2, true, "2s behind"},
      {"lag beyond the bound", [](LocalFacts&) {}, 1, false, "replica lag 2s exceeds 1s"},
      {"lag unknown", [](LocalFacts& f) { f.replica.seconds_behind.reset(); }, 30, false,
       "lag is unknown"},
      {"IO thread connecting",
       [](LocalFacts& f) { f.replica.io_running = mysql::ThreadState::kConnecting; }, 30, false,
       "IO thread Connecting"},
      {"SQL thread stopped", [](LocalFacts& f) { f.replica.sql_running = mysql::ThreadState::kNo; },
       30, false, "SQL thread No"},
      {"follows another node", [](LocalFacts& f) { f.replica.source_host = "10.0.0.13"; }, 30,
       false, "not from the lock holder"},
      {"same host, other port", [](LocalFacts& f) { f.replica.source_port = 3307; }, 30, false,
       "not from the lock holder"},
      {"writable", [](LocalFacts& f) { f.read_only = false; }, 30, false, "writable"},
      {"not replicating", [](LocalFacts& f) { f.replica.configured = false; }, 30, false,
       "not configured"},
      {"no primary", [](LocalFacts& f) { f.lock_held = false; }, 30, false,
       "no primary holds the lock"},
      {"holder not registered", [](LocalFacts& f) { f.holder_host.clear(); }, 30, false,
       "not registered"},
      {"this node is the primary", [](LocalFacts& f) { f.lock_mine = true; }, 30, false,
       "is the primary"},
      {"Consul down", [](LocalFacts& f) { f.consul_up = false; }, 30, false, "PRIMARY_KEY"},
      {"mysqld down", [](LocalFacts& f) { f.mysqld_up = false; }, 30, false, "does not answer"},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      LocalFacts f = Replica();
      row.change(f);
      Verdict v = CheckReplica(f, row.max_lag);
      CHECK(v.ok == row.ok);
      CHECK_THAT(v.reason, Catch::Contains(row.reason));
    }
  }
}

TEST_CASE("read-only passes for the primary and for a healthy replica only") {
  CHECK(CheckReadOnly(Primary(), 0).ok);
  CHECK(CheckReadOnly(Replica(), 30).ok);
  CHECK_FALSE(CheckReadOnly(Replica(), 1).ok);
  LocalFacts stopped = Replica();
  stopped.replica.io_running = mysql::ThreadState::kNo;
  CHECK_FALSE(CheckReadOnly(stopped, 30).ok);
}

TEST_CASE("health passes while mysqld answers, whatever Consul says") {
  LocalFacts f = Replica();
  f.consul_up = false;
  CHECK(CheckHealth(f).ok);
  f.mysqld_up = false;
  CHECK_FALSE(CheckHealth(f).ok);
}

TEST_CASE("facts older than the bound are not trusted") {
  LocalFacts f = Replica();
  auto max_age = std::chrono::milliseconds(2000);
  CHECK(CheckFresh(f, f.taken + std::chrono::milliseconds(2000), max_age).ok);
  Verdict stale = CheckFresh(f, f.taken + std::chrono::milliseconds(2001), max_age);
  CHECK_FALSE(stale.ok);
  CHECK_THAT(stale.reason, Catch::Contains("2001 ms old"));
  CHECK_FALSE(CheckFresh(LocalFacts{}, f.taken, max_age).ok);
}

}  // namespace
}  // namespace manage::serve
