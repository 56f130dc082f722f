#include "cluster/role.h"

#include <catch2/catch.hpp>

#include "unit/cluster/lock_views.h"

namespace manage::cluster {
namespace {

TEST_CASE("DecideRole table") {
  struct Row {
    const char* name;
    RoleInputs in;
    RoleAction want;
    const char* primary;
  };
  const std::string me = "mysql-n1";
  const std::vector<Row> rows = {
      {"our session holds the lock",
       {Held("s1", me), "s1", me},
       RoleAction::kKeepPrimary,
       me.c_str()},
      {"another node holds the lock",
       {Held("s2", "mysql-n2"), "s1", me},
       RoleAction::kFollow,
       "mysql-n2"},
      {"another node holds it and we have no session",
       {Held("s2", "mysql-n2"), "", me},
       RoleAction::kFollow,
       "mysql-n2"},
      {"our name under a session we lost", {Held("old", me), "", me}, RoleAction::kWait, ""},
      {"our name under a different session", {Held("old", me), "new", me}, RoleAction::kWait, ""},
      {"free lock, we held it last",
       {FreeAfter(me), "", me, Role::kPrimary, Origin::kInit},
       RoleAction::kAcquire,
       ""},
      {"free lock naming nobody, we were primary: through a failover",
       {FreeAfter(""), "", me, Role::kPrimary, Origin::kInit},
       RoleAction::kOrphaned,
       ""},
      {"free lock handed over to another node, we were primary (stale restart)",
       {FreeAfter("mysql-n2"), "", me, Role::kPrimary, Origin::kInit},
       RoleAction::kOrphaned,
       ""},
      {"free lock, another node was primary after us: demoted while away",
       {FreeAfter("mysql-n2"), "", me, Role::kPrimary, Origin::kInit},
       RoleAction::kOrphaned,
       ""},
      {"free lock, fresh node",
       {LockView{}, "", me, Role::kUnknown, Origin::kInit},
       RoleAction::kAcquire,
       ""},
      {"free lock, existing datadir",
       {LockView{}, "", me, Role::kUnknown, Origin::kUnknown},
       RoleAction::kAcquire,
       ""},
      {"free lock naming nobody, former primary restored from a snapshot",
       {LockView{}, "", me, Role::kPrimary, Origin::kSnapshot, true},
       RoleAction::kOrphaned,
       ""},
      {"free lock naming us, role lost", {FreeAfter(me), "", me}, RoleAction::kAcquire, ""},
      {"free lock naming another node, fresh node: never takes over",
       {FreeAfter("mysql-n2"), "", me, Role::kUnknown, Origin::kInit},
       RoleAction::kWait,
       ""},
      {"free lock naming another node, existing datadir",
       {FreeAfter("mysql-n2"), "", me, Role::kUnknown, Origin::kUnknown},
       RoleAction::kWait,
       ""},
      {"free lock, replica",
       {LockView{}, "", me, Role::kReplica, Origin::kInit, true},
       RoleAction::kOrphaned,
       ""},
      {"free lock, replication configured but role unknown",
       {LockView{}, "", me, Role::kUnknown, Origin::kUnknown, true},
       RoleAction::kOrphaned,
       ""},
      {"free lock, restored from a snapshot, not yet replicating",
       {LockView{}, "", me, Role::kUnknown, Origin::kSnapshot, false},
       RoleAction::kWait,
       ""},
      {"free lock, restored to a point in time: the first node of a new cluster",
       {LockView{}, "", me, Role::kUnknown, Origin::kPointInTime, false},
       RoleAction::kAcquire,
       ""},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    RoleDecision d = DecideRole(r.in);
    CHECK(d.action == r.want);
    CHECK(d.primary == r.primary);
    CHECK_FALSE(d.reason.empty());
  }
}

TEST_CASE("Role and origin names round-trip") {
  for (Role r : {Role::kPrimary, Role::kReplica, Role::kUnknown}) {
    CHECK(ParseRole(RoleName(r)) == r);
  }
  for (Origin o : {Origin::kInit, Origin::kSnapshot, Origin::kPointInTime, Origin::kUnknown}) {
    CHECK(ParseOrigin(OriginName(o)) == o);
  }
}

}  // namespace
}  // namespace manage::cluster
