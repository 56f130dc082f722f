#include "cluster/role.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

LockView Held(const std::string& session, const std::string& node) {
  LockView v;
  v.held = true;
  v.holder_session = session;
  v.value = node;
  return v;
}

LockView FreeAfter(const std::string& last_holder) {
  LockView v;
  v.present = true;
  v.value = last_holder;
  return v;
}

// PRIMARY_KEY is missing (Consul lost its state), seen so for `for_ms` of an
// 11 s grace.
RoleInputs Missing(Role role, std::chrono::milliseconds seen_for, bool replicating = true) {
  RoleInputs in{LockView{}, "", "mysql-n1", role, Origin::kInit, replicating};
  in.lock_missing_for = seen_for;
  in.lock_loss_grace = std::chrono::seconds(11);
  return in;
}

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
      {"free lock released cleanly (no last holder), we were primary",
       {FreeAfter(""), "", me, Role::kPrimary, Origin::kInit},
       RoleAction::kAcquire,
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
      {"free lock, former primary",
       {LockView{}, "", me, Role::kPrimary, Origin::kSnapshot, true},
       RoleAction::kAcquire,
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
      {"lock missing, replica, within the grace", Missing(Role::kReplica, std::chrono::seconds(10)),
       RoleAction::kAwaitLastPrimary, ""},
      {"lock missing, replication configured, within the grace",
       Missing(Role::kUnknown, std::chrono::seconds(0)), RoleAction::kAwaitLastPrimary, ""},
      {"lock missing, replica, grace over", Missing(Role::kReplica, std::chrono::seconds(11)),
       RoleAction::kOrphaned, ""},
      {"lock missing, the last primary takes it back at once",
       Missing(Role::kPrimary, std::chrono::seconds(0), false), RoleAction::kAcquire, ""},
      {"lock free but present, replica: no grace",
       {FreeAfter("mysql-n2"), "", me, Role::kReplica, Origin::kInit, true, std::chrono::seconds(0),
        std::chrono::seconds(11)},
       RoleAction::kOrphaned,
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
  for (Origin o : {Origin::kInit, Origin::kSnapshot, Origin::kUnknown}) {
    CHECK(ParseOrigin(OriginName(o)) == o);
  }
}

}  // namespace
}  // namespace manage::cluster
