#include "cluster/role.h"

#include <fmt/format.h>

namespace manage::cluster {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPrimary:
      return "primary";
    case Role::kReplica:
      return "replica";
    case Role::kUnknown:
      break;
  }
  return "unassigned";
}

Role ParseRole(const std::string& text) {
  if (text == "primary") return Role::kPrimary;
  if (text == "replica") return Role::kReplica;
  return Role::kUnknown;
}

const char* OriginName(Origin origin) {
  switch (origin) {
    case Origin::kInit:
      return "init";
    case Origin::kSnapshot:
      return "snapshot";
    case Origin::kPointInTime:
      return "pitr";
    case Origin::kUnknown:
      break;
  }
  return "existing";
}

Origin ParseOrigin(const std::string& text) {
  if (text == "init") return Origin::kInit;
  if (text == "snapshot") return Origin::kSnapshot;
  if (text == "pitr") return Origin::kPointInTime;
  return Origin::kUnknown;
}

RoleDecision DecideRole(const RoleInputs& in) {
  if (in.lock.held) {
    if (in.lock.HeldBy(in.my_session)) {
      return {RoleAction::kKeepPrimary, in.my_node, "this node's session holds the lock"};
    }
    if (in.lock.value == in.my_node) {
      // Our name with a session we do not know: a previous run of this node
      // whose session outlives it. It expires (TTL or tied check); until then
      // nobody, including us, may write.
      return {RoleAction::kWait, "",
              "the lock names this node under a session it does not hold; waiting for it to "
              "expire"};
    }
    return {RoleAction::kFollow, in.lock.value, "another node holds the lock"};
  }
  // The lock is free. Only the node its value names may take it (its last
  // holder, or the target a switchover released it to), or a new node when
  // it names nobody: the first bootstrap. Anyone else goes through a failover,
  // which compares every node's transactions first.
  //
  // A missing key is not a free one: Consul lost its state, the key and every
  // session with it, and nobody's value names anyone. Its last holder must
  // take it back at once (nothing else brings the cluster back within seconds;
  // a failover waits LockLossGrace first), and only its last holder: a
  // former primary demoted while it was away must not. Only this node's own
  // state can tell them apart, and its lease proof does: while it still runs
  // (lease.h, LeaseRunning), nobody else can have held the lock since this
  // node last proved it held it, so Consul lost it with this node as the
  // holder. A free key that exists, empty or naming another node, is never
  // taken back.
  const bool names_me = in.lock.value == in.my_node;
  const bool names_nobody = in.lock.value.empty();
  const bool waits_for_grace = !in.lock.present && in.lock_missing_for < in.lock_loss_grace;
  const auto grace_left = [&in] { return (in.lock_loss_grace - in.lock_missing_for).count(); };
  if (in.last_role == Role::kPrimary) {
    if (names_me) return {RoleAction::kAcquire, "", "this node was primary and the lock names it"};
    if (!in.lock.present && in.lease_running) {
      return {RoleAction::kAcquire, "",
              "the primary lock is missing (Consul lost its state) and this node's lease shows "
              "it was its last holder: taking it back"};
    }
    if (waits_for_grace) {
      return {RoleAction::kAwaitLastPrimary, "",
              fmt::format("the primary lock is missing (Consul lost its state) and this node's "
                          "lease ran out: waiting {} ms before failing over",
                          grace_left())};
    }
    // Another node held the lock after us (a failover while this node was
    // away), or it was handed over and the value lost: this node's data may
    // hold transactions the cluster never got, or lack the newest ones. It
    // must rejoin through the failover path, never simply take over.
    return {RoleAction::kOrphaned, "",
            names_nobody ? "this node was primary, but the free lock names nobody; "
                           "rejoining through a failover"
                         : "this node was primary, but " + in.lock.value +
                               " held the lock since; rejoining as a replica"};
  }
  if (in.replication_configured || in.last_role == Role::kReplica) {
    if (waits_for_grace) {
      return {RoleAction::kAwaitLastPrimary, "",
              fmt::format("the primary lock is missing (Consul lost its state): waiting {} ms "
                          "for the last primary to take it again before failing over",
                          grace_left())};
    }
    return {RoleAction::kOrphaned, "", "replica with no primary: waiting for failover"};
  }
  if (in.origin == Origin::kSnapshot) {
    return {RoleAction::kWait, "",
            "restored from a snapshot but no primary holds the lock; waiting for one"};
  }
  if (!names_nobody && !names_me) {
    return {RoleAction::kWait, "",
            "the free lock names " + in.lock.value +
                ": a new node never takes over a cluster; waiting for a primary"};
  }
  // A missing key does not prove that no cluster runs: Consul may have lost
  // the state of one whose last primary takes the key back within a pass, or,
  // if that primary is gone, whose replicas fail over after the grace. A new
  // node that took the key first would lead them with none of their data.
  // Every live node of such a cluster has registered its service again and
  // passes its check within new_node_wait of this node seeing the key missing
  // (hooks/consul_faults.cc); only then, and only if none does, is this the
  // first bootstrap. A node restored to a point in time starts a new
  // SERVICE_NAME and waits for nobody.
  if (!in.lock.present && in.origin != Origin::kPointInTime) {
    if (in.lock_missing_for < in.new_node_wait) {
      return {RoleAction::kWait, "",
              fmt::format("the primary lock is missing: waiting {} ms for a running cluster "
                          "whose lock Consul lost to show itself before bootstrapping",
                          (in.new_node_wait - in.lock_missing_for).count())};
    }
    if (in.peers_passing) {
      return {RoleAction::kWait, "",
              "the primary lock is missing but other nodes of this service pass their checks: "
              "Consul lost the state of a running cluster, and a new node never takes it over; "
              "waiting for a primary"};
    }
  }
  return {RoleAction::kAcquire, "", "no primary yet: this node may bootstrap the cluster"};
}

}  // namespace manage::cluster
