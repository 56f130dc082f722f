#include "cluster/lease.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

using namespace std::chrono_literals;

// The shipped timing: SESSION_TTL 10 s, HEALTH_TTL 7 s, lock-delay 1 s,
// interval 2 s, a pass of at most 2.1 s.
LeaseTiming Shipped() { return {10s, 7s, 1s, 2s, 2100ms, true}; }

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
      {"last pass covered: 8 - 2.1 - 2.1", Shipped(), LeaseProof{0ms, 0ms}, 3800ms, true},
      {"one ms later", Shipped(), LeaseProof{0ms, 0ms}, 3801ms, false},
      {"heartbeats land: the session TTL bounds it", Shipped(), LeaseProof{0ms, 6s}, 6800ms, true},
      {"heartbeats land, past the session TTL bound", Shipped(), LeaseProof{0ms, 6s}, 6801ms,
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

TEST_CASE("LockLossGrace covers the longest lease and the next pass") {
  CHECK(LockLossGrace(Shipped()) == 11s);
  LeaseTiming agent = Shipped();
  agent.enabled = false;
  CHECK(LockLossGrace(agent) == 11s);
  LeaseTiming slow = {10s, 7s, 0s, 20s, 2100ms, true};
  CHECK(LockLossGrace(slow) == 22100ms);
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
