#include "cluster/role.h"

#include <catch2/catch.hpp>

#include "unit/cluster/lock_views.h"

namespace manage::cluster {
namespace {

// PRIMARY_KEY is missing (Consul lost its state), seen so for `seen_for` of an
// 11 s grace; `lease_running`: this node's own lease proof still runs.
RoleInputs Missing(Role role, std::chrono::milliseconds seen_for, bool replicating = true,
                   bool lease_running = false) {
  RoleInputs in{LockView{}, "", "mysql-n1", role, Origin::kInit, replicating};
  in.lock_missing_for = seen_for;
  in.lock_loss_grace = std::chrono::seconds(11);
  in.lease_running = lease_running;
  return in;
}

// A free PRIMARY_KEY that exists, seen by a former primary whose lease proof
// still runs: the lease never matters for a key that exists.
RoleInputs FreeWithLease(const std::string& last_holder) {
  RoleInputs in{FreeAfter(last_holder), "", "mysql-n1", Role::kPrimary, Origin::kInit, false};
  in.lock_loss_grace = std::chrono::seconds(11);
  in.lease_running = true;
  return in;
}

// PRIMARY_KEY is missing, seen so for `seen_for` by a new node (no role, no
// replication) that waits 4 s; `peers_passing`: another node of the service
// passes its check.
RoleInputs NewNode(std::chrono::milliseconds seen_for, bool peers_passing,
                   Origin origin = Origin::kInit) {
  RoleInputs in{LockView{}, "", "mysql-n1", Role::kUnknown, origin, false};
  in.lock_missing_for = seen_for;
  in.lock_loss_grace = std::chrono::seconds(11);
  in.new_node_wait = std::chrono::seconds(4);
  in.peers_passing = peers_passing;
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
       {FreeAfter(""), "", me, Role::kUnknown, Origin::kInit},
       RoleAction::kAcquire,
       ""},
      {"no lock yet (a new cluster), fresh node",
       {LockView{}, "", me, Role::kUnknown, Origin::kInit},
       RoleAction::kAcquire,
       ""},
      {"free lock, existing datadir",
       {FreeAfter(""), "", me, Role::kUnknown, Origin::kUnknown},
       RoleAction::kAcquire,
       ""},
      {"free lock naming nobody, former primary restored from a snapshot",
       {FreeAfter(""), "", me, Role::kPrimary, Origin::kSnapshot, true},
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
       {FreeAfter(""), "", me, Role::kReplica, Origin::kInit, true},
       RoleAction::kOrphaned,
       ""},
      {"free lock, replication configured but role unknown",
       {FreeAfter(""), "", me, Role::kUnknown, Origin::kUnknown, true},
       RoleAction::kOrphaned,
       ""},
      {"free lock, restored from a snapshot, not yet replicating",
       {FreeAfter(""), "", me, Role::kUnknown, Origin::kSnapshot, false},
       RoleAction::kWait,
       ""},
      {"free lock, restored to a point in time: the first node of a new cluster",
       {FreeAfter(""), "", me, Role::kUnknown, Origin::kPointInTime, false},
       RoleAction::kAcquire,
       ""},
      {"lock missing, new node, within its wait", NewNode(std::chrono::milliseconds(3999), false),
       RoleAction::kWait, ""},
      {"lock missing, new node, wait over, nobody else passes: the first bootstrap",
       NewNode(std::chrono::seconds(4), false), RoleAction::kAcquire, ""},
      {"lock missing, new node, wait over, other nodes pass: Consul lost a running cluster's "
       "lock, which a new node never takes",
       NewNode(std::chrono::seconds(60), true), RoleAction::kWait, ""},
      {"lock missing, restored to a point in time (a new SERVICE_NAME): waits for nobody",
       NewNode(std::chrono::seconds(0), true, Origin::kPointInTime), RoleAction::kAcquire, ""},
      {"free lock naming nobody, new node, others pass: a key that exists is no lost one",
       [] {
         RoleInputs in = NewNode(std::chrono::seconds(0), true);
         in.lock = FreeAfter("");
         return in;
       }(),
       RoleAction::kAcquire, ""},
      {"no lock key yet (a new SERVICE_NAME), restored to a point in time: no grace to wait",
       {LockView{}, "", me, Role::kUnknown, Origin::kPointInTime, false},
       RoleAction::kAcquire,
       ""},
      {"lock missing, replica, within the grace", Missing(Role::kReplica, std::chrono::seconds(10)),
       RoleAction::kAwaitLastPrimary, ""},
      {"lock missing, replication configured, within the grace",
       Missing(Role::kUnknown, std::chrono::seconds(0)), RoleAction::kAwaitLastPrimary, ""},
      {"lock missing, replica, grace over", Missing(Role::kReplica, std::chrono::seconds(11)),
       RoleAction::kOrphaned, ""},
      {"lock missing, the last primary (its lease still runs) takes it back at once",
       Missing(Role::kPrimary, std::chrono::seconds(0), false, true), RoleAction::kAcquire, ""},
      {"lock missing, a former primary whose lease ran out (demoted while away, or Consul "
       "gone longer than the lease): waits like the replicas",
       Missing(Role::kPrimary, std::chrono::seconds(0), false), RoleAction::kAwaitLastPrimary, ""},
      {"lock missing, a former primary whose lease ran out, grace over: through a failover",
       Missing(Role::kPrimary, std::chrono::seconds(11), false), RoleAction::kOrphaned, ""},
      {"lock missing, a replica's lease is no claim on it",
       Missing(Role::kReplica, std::chrono::seconds(0), true, true), RoleAction::kAwaitLastPrimary,
       ""},
      {"free lock naming nobody, former primary with its lease running: never taken back",
       FreeWithLease(""), RoleAction::kOrphaned, ""},
      {"free lock naming another node, former primary with its lease running: never taken back",
       FreeWithLease("mysql-n2"), RoleAction::kOrphaned, ""},
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
  for (Origin o : {Origin::kInit, Origin::kSnapshot, Origin::kPointInTime, Origin::kUnknown}) {
    CHECK(ParseOrigin(OriginName(o)) == o);
  }
}

}  // namespace
}  // namespace manage::cluster
