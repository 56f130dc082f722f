#include "cluster/failover_loop.h"

#include <catch2/catch.hpp>

#include "unit/cluster/lock_views.h"

namespace manage::cluster {
namespace {

constexpr char kMe[] = "mysql-n1";

LockView Coordinated(LockView v) {
  v.failover_held = true;
  return v;
}

Designation Naming(const std::string& candidate) {
  return Designation{"mysql-n3", "failover", "mysql-n2", candidate, "0-1-5", ""};
}

TEST_CASE("NextFailoverStep table") {
  struct Row {
    const char* name;
    FailoverObservation o;
    FailoverStep want;
  };
  auto obs = [](LockView lock) {
    FailoverObservation o;
    o.lock = std::move(lock);
    o.me = kMe;
    o.my_session = "mine";
    o.part_of_cluster = true;
    return o;
  };
  auto with = [](FailoverObservation o, auto change) {
    change(o);
    return o;
  };
  const std::vector<Row> rows = {
      {"budget spent", with(obs(FreeAfter("mysql-n2")), [](auto& o) { o.past_deadline = true; }),
       FailoverStep::kGiveUp},
      {"our session holds the lock", obs(Held("mine", kMe)), FailoverStep::kDone},
      {"our name under an old session: health waits it out", obs(Held("old", kMe)),
       FailoverStep::kDone},
      {"another primary holds the lock", obs(Held("s2", "mysql-n2")), FailoverStep::kFollow},
      {"held, a switchover names us: arm",
       with(obs(Coordinated(Held("s2", "mysql-n2"))), [](auto& o) { o.designation = Naming(kMe); }),
       FailoverStep::kArm},
      {"held, a switchover names us, armed: poll fast",
       with(obs(Coordinated(Held("s2", "mysql-n2"))),
            [](auto& o) {
              o.designation = Naming(kMe);
              o.armed = true;
            }),
       FailoverStep::kPollFast},
      {"held, a switchover names another node: follow the primary",
       with(obs(Coordinated(Held("s2", "mysql-n2"))),
            [](auto& o) { o.designation = Naming("mysql-n3"); }),
       FailoverStep::kFollow},
      {"primary gone, holder not looked up yet",
       with(obs(Held("s2", "mysql-n2")),
            [](auto& o) { o.primary_gone = o.within_gone_wait = true; }),
       FailoverStep::kCheckAdvertised},
      {"primary gone, holder no longer advertised: its session is dying",
       with(obs(Held("s2", "mysql-n2")),
            [](auto& o) {
              o.primary_gone = o.within_gone_wait = true;
              o.holder_advertised = false;
            }),
       FailoverStep::kPoll},
      {"primary gone, but the holder is advertised: a new primary",
       with(obs(Held("s2", "mysql-n2")),
            [](auto& o) {
              o.primary_gone = o.within_gone_wait = true;
              o.holder_advertised = true;
            }),
       FailoverStep::kFollow},
      {"primary gone, waited longer than its session can live",
       with(obs(Held("s2", "mysql-n2")), [](auto& o) { o.primary_gone = true; }),
       FailoverStep::kFollow},
      {"primary gone, a switchover runs: follow",
       with(obs(Coordinated(Held("s2", "mysql-n2"))),
            [](auto& o) { o.primary_gone = o.within_gone_wait = true; }),
       FailoverStep::kFollow},
      {"free and designated: promote",
       with(obs(Coordinated(FreeAfter("mysql-n2"))), [](auto& o) { o.designation = Naming(kMe); }),
       FailoverStep::kPromote},
      {"free, another node coordinates", obs(Coordinated(FreeAfter("mysql-n2"))),
       FailoverStep::kPoll},
      {"free, another node is designated",
       with(obs(Coordinated(FreeAfter("mysql-n2"))),
            [](auto& o) { o.designation = Naming("mysql-n3"); }),
       FailoverStep::kPoll},
      {"free, nobody coordinates", obs(FreeAfter("mysql-n2")), FailoverStep::kCoordinate},
      {"free, a new node",
       with(obs(FreeAfter("mysql-n2")), [](auto& o) { o.part_of_cluster = false; }),
       FailoverStep::kNotMember},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    CHECK(FailoverStepName(NextFailoverStep(r.o)) == std::string(FailoverStepName(r.want)));
  }
}

}  // namespace
}  // namespace manage::cluster
