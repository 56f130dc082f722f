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
    case Origin::kUnknown:
      break;
  }
  return "existing";
}

Origin ParseOrigin(const std::string& text) {
  if (text == "init") return Origin::kInit;
  if (text == "snapshot") return Origin::kSnapshot;
  return Origin::kUnknown;
}

RoleDecision DecideRole(const RoleInputs& in) {
  if (in.lock.held) {
    if (!in.my_session.empty() && in.lock.holder_session == in.my_session) {
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
  // The lock is free.
  if (in.last_role == Role::kPrimary) {
    if (!in.lock.value.empty() && in.lock.value != in.my_node) {
      // Another node held the lock after us: a failover happened while this
      // node was away. Its data may hold transactions the cluster never got;
      // it must rejoin through the failover path, never simply take over.
      return {RoleAction::kOrphaned, "",
              "this node was primary, but " + in.lock.value +
                  " held the lock since; rejoining as a replica"};
    }
    return {RoleAction::kAcquire, "", "this node was primary and the lock is free"};
  }
  if (in.replication_configured || in.last_role == Role::kReplica) {
    if (!in.lock.present && in.lock_missing_for < in.lock_loss_grace) {
      return {RoleAction::kAwaitLastPrimary, "",
              fmt::format("the primary lock is missing (Consul lost its state): waiting {} ms "
                          "for the last primary to take it again before failing over",
                          (in.lock_loss_grace - in.lock_missing_for).count())};
    }
    return {RoleAction::kOrphaned, "", "replica with no primary: waiting for failover"};
  }
  if (in.origin == Origin::kSnapshot) {
    return {RoleAction::kWait, "",
            "restored from a snapshot but no primary holds the lock; waiting for one"};
  }
  return {RoleAction::kAcquire, "", "no primary yet: this node may bootstrap the cluster"};
}

}  // namespace manage::cluster
