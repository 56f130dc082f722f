#include "cluster/failover.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

using namespace std::chrono_literals;
using mysql::Flavor;

Candidate Cand(const std::string& node, const std::string& executed, const std::string& received,
               int priority = 0) {
  Candidate c;
  c.node = node;
  c.reachable = true;
  c.executed = executed;
  c.received = received;
  c.caught_up = executed == received;
  c.priority = priority;
  return c;
}

TEST_CASE("DecideFailover: lock, forced, cooldown only while the last primary is registered") {
  SystemTime now = SystemTime{} + 10000s;
  struct Row {
    const char* name;
    bool held, passing, forced;
    std::optional<SystemTime> last;
    FailoverGate want;
  };
  std::vector<Row> rows = {
      {"a primary holds the lock", true, true, false, std::nullopt, FailoverGate::kNotNeeded},
      {"held even when forced", true, true, true, std::nullopt, FailoverGate::kNotNeeded},
      {"free, never failed over", false, true, false, std::nullopt, FailoverGate::kProceed},
      {"free, within cooldown, last primary registered", false, true, false, now - 10s,
       FailoverGate::kCooldown},
      {"free, within cooldown, last primary gone", false, false, false, now - 10s,
       FailoverGate::kProceed},
      {"free, cooldown over", false, true, false, now - 301s, FailoverGate::kProceed},
      {"forced within cooldown", false, true, true, now - 10s, FailoverGate::kProceed},
  };
  for (const Row& r : rows) {
    FailoverInputs in;
    in.lock_held = r.held;
    in.last_primary = "mysql-n1";
    in.last_primary_passing = r.passing;
    in.last_automatic = r.last;
    in.now = now;
    in.cooldown = 300s;
    in.forced = r.forced;
    INFO(r.name);
    FailoverDecision d = DecideFailover(in);
    CHECK(d.gate == r.want);
    CHECK_FALSE(d.reason.empty());
  }
}

TEST_CASE("DecideFailover: a missing lock holds every failover back for its grace") {
  struct Row {
    const char* name;
    std::optional<std::chrono::milliseconds> missing_for;
    bool forced;
    FailoverGate want;
  };
  const Row rows[] = {
      {"lock present (free)", std::nullopt, false, FailoverGate::kProceed},
      {"missing, just seen", 0ms, false, FailoverGate::kCooldown},
      {"missing, forced", 10999ms, true, FailoverGate::kCooldown},
      {"missing, grace over", 11s, false, FailoverGate::kProceed},
      {"missing, grace over, forced", 11s, true, FailoverGate::kProceed},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    FailoverInputs in;
    in.now = SystemTime{} + 10000s;
    in.cooldown = 300s;
    in.forced = r.forced;
    in.lock_missing_for = r.missing_for;
    in.lock_loss_grace = 11s;
    FailoverDecision d = DecideFailover(in);
    CHECK(d.gate == r.want);
    CHECK_FALSE(d.reason.empty());
  }
}

TEST_CASE("ChooseCandidate: the most advanced wins, never one that lacks another's transactions") {
  SECTION("most advanced by GTID, whatever the priority") {
    auto c = ChooseCandidate(
        Flavor::kMariaDb, {Cand("a", "0-1-10", "0-1-10", 100), Cand("b", "0-1-12", "0-1-12", 0)});
    REQUIRE(c.ok());
    CHECK(c->node == "b");
    CHECK(c->gtid == "0-1-12");
  }
  SECTION("equal: priority, then semi-sync, then name") {
    Candidate a = Cand("a", "0-1-12", "0-1-12", 1);
    Candidate b = Cand("b", "0-1-12", "0-1-12", 5);
    auto c = ChooseCandidate(Flavor::kMariaDb, {a, b});
    REQUIRE(c.ok());
    CHECK(c->node == "b");
    b.priority = 1;
    a.semi_sync = false;
    b.semi_sync = true;
    c = ChooseCandidate(Flavor::kMariaDb, {a, b});
    REQUIRE(c.ok());
    CHECK(c->node == "b");
    b.semi_sync = false;
    c = ChooseCandidate(Flavor::kMariaDb, {b, a});
    REQUIRE(c.ok());
    CHECK(c->node == "a");
  }
  SECTION("NO_FAILOVER alone has everything: the best other node catches up from it first") {
    Candidate a = Cand("a", "0-1-12", "0-1-12");
    a.no_failover = true;
    auto c = ChooseCandidate(
        Flavor::kMariaDb, {a, Cand("b", "0-1-11", "0-1-11", 1), Cand("c", "0-1-10", "0-1-10", 5)});
    REQUIRE(c.ok());
    CHECK(c->node == "c");  // priority first: it catches up anyway
    CHECK(c->source == "a");
    CHECK(c->gtid == "0-1-12");
    CHECK_THAT(c->reason, Catch::Contains("catches up first from a"));
  }
  SECTION("NO_FAILOVER has everything, but nobody else may lead") {
    Candidate a = Cand("a", "0-1-12", "0-1-12");
    a.no_failover = true;
    Candidate b = Cand("b", "0-1-11", "0-1-11");
    b.errant = "0-2-11";
    auto c = ChooseCandidate(Flavor::kMariaDb, {a, b});
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kFailedPrecondition);
    CHECK_THAT(c.status().message(), Catch::Contains("a has NO_FAILOVER"));
    CHECK_THAT(c.status().message(), Catch::Contains("b has errant transactions"));
  }
  SECTION("a NO_FAILOVER source must have applied what it received") {
    Candidate a = Cand("a", "0-1-12", "0-1-14");  // lags on apply
    a.no_failover = true;
    CHECK_FALSE(ChooseCandidate(Flavor::kMariaDb, {a, Cand("b", "0-1-11", "0-1-11")}).ok());
  }
  SECTION("NO_FAILOVER with equal data: the other one leads") {
    Candidate a = Cand("a", "0-1-12", "0-1-12", 9);
    a.no_failover = true;
    auto c = ChooseCandidate(Flavor::kMariaDb, {a, Cand("b", "0-1-12", "0-1-12")});
    REQUIRE(c.ok());
    CHECK(c->node == "b");
  }
  SECTION("what another candidate received counts, even if it has not applied it") {
    // b received 0-1-15 but applied only 0-1-11; a applied 0-1-12: neither has it all.
    Candidate b = Cand("b", "0-1-11", "0-1-15");
    auto c = ChooseCandidate(Flavor::kMariaDb, {Cand("a", "0-1-12", "0-1-12"), b});
    REQUIRE_FALSE(c.ok());
    CHECK_THAT(c.status().message(), Catch::Contains("a lacks transactions of b"));
    CHECK_THAT(c.status().message(), Catch::Contains("b lacks transactions of a"));
  }
  SECTION("a candidate with errant transactions never leads, however advanced it looks") {
    // b wrote 0-2-13 itself as a replica; what it got from the primary ends at 0-1-12.
    Candidate b = Cand("b", "0-2-13", "0-1-12");
    b.caught_up = true;
    b.errant = "0-2-13";
    auto c = ChooseCandidate(Flavor::kMariaDb, {Cand("a", "0-1-12", "0-1-12"), b});
    REQUIRE(c.ok());
    CHECK(c->node == "a");
    // What it received from the primary still counts: a lacks 0-1-14 here.
    b.received = "0-1-14";
    c = ChooseCandidate(Flavor::kMariaDb, {Cand("a", "0-1-12", "0-1-12"), b});
    REQUIRE_FALSE(c.ok());
    CHECK_THAT(c.status().message(), Catch::Contains("b has errant transactions 0-2-13"));
    CHECK_THAT(c.status().message(), Catch::Contains("a lacks transactions of b"));
  }
  SECTION("diverged candidates: neither may lead") {
    auto c = ChooseCandidate(Flavor::kMariaDb,
                             {Cand("a", "0-1-12", "0-1-12"), Cand("b", "0-2-12", "0-2-12")});
    REQUIRE_FALSE(c.ok());
  }
  SECTION("unreachable candidates are left out; none reachable is an error") {
    Candidate gone;
    gone.node = "z";
    gone.error = "connection refused";
    auto c = ChooseCandidate(Flavor::kMariaDb, {gone, Cand("a", "0-1-3", "0-1-3")});
    REQUIRE(c.ok());
    CHECK(c->node == "a");
    CHECK_FALSE(ChooseCandidate(Flavor::kMariaDb, {gone}).ok());
    CHECK_FALSE(ChooseCandidate(Flavor::kMariaDb, {}).ok());
  }
  SECTION("several domains") {
    auto c = ChooseCandidate(Flavor::kMariaDb, {Cand("a", "0-1-12,1-1-3", "0-1-12,1-1-3"),
                                                Cand("b", "0-1-12,1-1-4", "0-1-12,1-1-4")});
    REQUIRE(c.ok());
    CHECK(c->node == "b");
  }
  SECTION("MySQL GTID sets") {
    std::string u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    auto c = ChooseCandidate(
        Flavor::kMySql, {Cand("a", u + ":1-5", u + ":1-5"), Cand("b", u + ":1-7", u + ":1-7")});
    REQUIRE(c.ok());
    CHECK(c->node == "b");
  }
  SECTION("a bad GTID is an error, not a guess") {
    auto c = ChooseCandidate(Flavor::kMariaDb, {Cand("a", "x", "x"), Cand("b", "0-1-2", "0-1-2")});
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("GtidUnion") {
  CHECK(*GtidUnion(Flavor::kMariaDb, "0-1-5", "0-1-9") == "0-1-9");
  CHECK(*GtidUnion(Flavor::kMariaDb, "0-1-9", "") == "0-1-9");
  CHECK(*GtidUnion(Flavor::kMariaDb, "0-1-9,1-2-3", "1-2-7,2-1-1") == "0-1-9,1-2-7,2-1-1");
  CHECK(*GtidUnion(Flavor::kMariaDb, "", "") == "");
  std::string u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  CHECK(*GtidUnion(Flavor::kMySql, u + ":1-5", u + ":7") == u + ":1-5:7");
  CHECK_FALSE(GtidUnion(Flavor::kMariaDb, "x", "").ok());
}

TEST_CASE("ParseNodeTags") {
  CHECK(ParseNodeTags({}).priority == 0);
  CHECK_FALSE(ParseNodeTags({}).no_failover);
  NodeTraits t = ParseNodeTags({"failover-priority=7", "no-failover"});
  CHECK(t.priority == 7);
  CHECK(t.no_failover);
  CHECK(ParseNodeTags({"failover-priority=-3"}).priority == -3);
  CHECK(ParseNodeTags({"failover-priority=x"}).priority == 0);
  CHECK(ParseNodeTags({"failover-priority=5000"}).priority == 0);
}

TEST_CASE("history: round trip, limit, last automatic") {
  FailoverEvent e;
  e.time = SystemTime{} + 1'700'000'000s;
  e.kind = "failover";
  e.old_primary = "mysql-n1";
  e.new_primary = "mysql-n2";
  e.candidates = {{"mysql-n2", "0-1-12"}, {"mysql-n3", "0-1-11"}};
  e.reason = "the primary lock is free";
  e.duration = 1234ms;
  std::string json = SerializeHistory({e});
  auto back = ParseHistory(json);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  const FailoverEvent& b = back->front();
  CHECK(b.time == e.time);
  CHECK(b.kind == e.kind);
  CHECK(b.old_primary == e.old_primary);
  CHECK(b.new_primary == e.new_primary);
  CHECK(b.candidates == e.candidates);
  CHECK(b.reason == e.reason);
  CHECK(b.duration == e.duration);

  CHECK(ParseHistory("")->empty());
  CHECK_FALSE(ParseHistory("{}").ok());
  CHECK_FALSE(ParseHistory("[1]").ok());

  std::vector<FailoverEvent> h;
  for (size_t i = 0; i < kHistoryLimit + 5; ++i) {
    FailoverEvent x = e;
    x.new_primary = std::to_string(i);
    h = AppendEvent(h, x);
  }
  REQUIRE(h.size() == kHistoryLimit);
  CHECK(h.back().new_primary == std::to_string(kHistoryLimit + 4));
  CHECK(h.front().new_primary == "5");

  FailoverEvent sw = e;
  sw.kind = "switchover";
  sw.time = e.time + 100s;
  CHECK(LastAutomatic({e, sw}) == e.time);
  CHECK_FALSE(LastAutomatic({sw}));
}

TEST_CASE("designation round trip") {
  Designation d{"mysql-n3", "failover", "mysql-n1", "mysql-n2", "0-1-12", "mysql-n4"};
  auto back = ParseDesignation(SerializeDesignation(d));
  REQUIRE(back.ok());
  CHECK(*back == d);
  CHECK_FALSE(ParseDesignation("not json").ok());
}

}  // namespace
}  // namespace manage::cluster
