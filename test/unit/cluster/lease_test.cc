#include "cluster/lease.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

using namespace std::chrono_literals;

// The shipped timing: SESSION_TTL 10 s, HEALTH_TTL 7 s, lock-delay 1 s,
// interval 2 s, a pass that does not fence runs at most P = 2.5 s, one that
// does fences within H = 3 s (config.h).
LeaseTiming Shipped() { return {10s, 7s, 1s, 2s, 2500ms, 3s, true}; }

TEST_CASE("LeaseTimingOf: the configuration, P and H as the health pass enforces them") {
  Config config;
  config.health.primary_interval = 3s;
  LeaseTiming t = LeaseTimingOf(config);
  CHECK(t.session_ttl == 10s);
  CHECK(t.check_ttl == 7s);
  CHECK(t.lock_delay == 1s);
  CHECK(t.interval == 3s);  // the longer of the two jobs' intervals
  CHECK(t.pass == kPassBound);
  CHECK(t.fence == kFenceBound);
  CHECK(t.enabled);
  config.consul_agent = true;
  CHECK_FALSE(LeaseTimingOf(config).enabled);
}

TEST_CASE("EarliestTakeover: the sooner of the session TTL and the check TTL, plus lock-delay") {
  CHECK(EarliestTakeover({0ms, 0ms}, Shipped()) == 8s);  // the check expires first
  CHECK(EarliestTakeover({0ms, 5s}, Shipped()) == 11s);  // a later heartbeat: the TTL
  CHECK(EarliestTakeover({100s, 100s}, Shipped()) == 108s);
}

TEST_CASE("DecideLease: only while the next pass would still fence before any takeover") {
  struct Row {
    const char* what;
    LeaseTiming timing;
    std::optional<LeaseProof> proof;
    std::chrono::milliseconds start;
    bool keep;
    std::chrono::milliseconds now{-1};  // -1: the pass's start
  };
  LeaseTiming agent = Shipped();
  agent.enabled = false;
  LeaseTiming slow_pass = Shipped();
  slow_pass.pass = 3s;  // next pass starts max(I, P) = 3 s later
  const Row rows[] = {
      {"no proof", Shipped(), std::nullopt, 1s, false},
      {"first silent pass", Shipped(), LeaseProof{0ms, 0ms}, 2s, true},
      {"last pass covered: 8 - 2.5 - 3", Shipped(), LeaseProof{0ms, 0ms}, 2500ms, true},
      {"one ms later", Shipped(), LeaseProof{0ms, 0ms}, 2501ms, false},
      {"heartbeats land: the session TTL bounds it, 11 - 5.5", Shipped(), LeaseProof{0ms, 5s},
       5500ms, true},
      {"heartbeats land, past the session TTL bound", Shipped(), LeaseProof{0ms, 5s}, 5501ms,
       false},
      {"passes longer than the interval", slow_pass, LeaseProof{0ms, 0ms}, 2s, true},
      {"passes longer than the interval, later", slow_pass, LeaseProof{0ms, 0ms}, 2001ms, false},
      {"CONSUL_AGENT", agent, LeaseProof{0ms, 0ms}, 1s, false},
      {"a proof from the future (before a reboot)", Shipped(), LeaseProof{50s, 50s}, 2s, false},
      {"a proof another pass recorded meanwhile", Shipped(), LeaseProof{3s, 3s}, 2s, true, 3500ms},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    LeaseDecision d =
        DecideLease(row.proof, row.start, row.now < 0ms ? row.start : row.now, row.timing);
    CHECK(d.keep == row.keep);
    CHECK_FALSE(d.reason.empty());
  }
}

TEST_CASE("LeaseRunning: a proof shows nobody else held the lock only until its takeover") {
  struct Row {
    const char* what;
    std::optional<LeaseProof> proof;
    std::chrono::milliseconds now;
    bool enabled;
    bool running;
  };
  const Row rows[] = {
      {"no proof", std::nullopt, 1s, true, false},
      {"just proven", LeaseProof{0ms, 0ms}, 1s, true, true},
      {"the last moment: HEALTH_TTL 7 + D 1", LeaseProof{0ms, 0ms}, 7999ms, true, true},
      {"at the takeover", LeaseProof{0ms, 0ms}, 8s, true, false},
      {"heartbeats landed: SESSION_TTL 10 + D 1", LeaseProof{0ms, 9s}, 10999ms, true, true},
      {"a proof from before a reboot", LeaseProof{50s, 50s}, 2s, true, false},
      {"CONSUL_AGENT", LeaseProof{0ms, 0ms}, 1s, false, false},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    LeaseTiming t = Shipped();
    t.enabled = row.enabled;
    CHECK(LeaseRunning(row.proof, row.now, t) == row.running);
  }
}

TEST_CASE("LockLossGrace covers the longest lease and the next pass") {
  CHECK(LockLossGrace(Shipped()) == 11s);
  LeaseTiming agent = Shipped();
  agent.enabled = false;
  CHECK(LockLossGrace(agent) == 11s);
  LeaseTiming slow = {10s, 7s, 0s, 20s, 2500ms, 3s, true};
  CHECK(LockLossGrace(slow) == 23s);  // max(I, P) + H
}

TEST_CASE("EveryNodePassedWithin: a pass begun after the moment, and ended or fenced") {
  CHECK(EveryNodePassedWithin(Shipped()) == 5500ms);  // max(I 2 s, P 2.5 s) + H 3 s
  LeaseTiming slow = {10s, 7s, 0s, 20s, 2500ms, 3s, true};
  CHECK(EveryNodePassedWithin(slow) == 23s);
}

TEST_CASE("Lease proofs round-trip through the state dir's text") {
  LeaseProof proof{12345ms, 12400ms};
  CHECK(ParseLeaseProof(FormatLeaseProof(proof)) == proof);
  for (const char* bad : {"", "1", "1 ", " 1 2", "1 2 3", "a b", "-1 2", "1  2"}) {
    INFO(bad);
    CHECK_FALSE(ParseLeaseProof(bad).has_value());
  }
}

}  // namespace
}  // namespace manage::cluster
