// Role decisions: given what Consul says about PRIMARY_KEY and what this node
// knows about itself, what should this health pass do? Pure functions over
// plain structs, table-tested in test/unit/cluster/role_test.cc.
//
// The one rule that prevents two primaries: only the holder of PRIMARY_KEY may
// be writable. mysqld always boots read_only (my.cnf), and read_only is turned
// off only in a health pass that has just seen Consul name this node's own
// session as the holder.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace manage::cluster {

enum class Role { kUnknown, kPrimary, kReplica };

const char* RoleName(Role role);
Role ParseRole(const std::string& text);  // kUnknown for anything else

// How this node's data came to be, recorded by pre_start.
enum class Origin {
  kUnknown,   // no record: an existing datadir (treated like the original did)
  kInit,      // initialised empty by mariadb-install-db
  kSnapshot,  // restored from a snapshot: must replicate, never bootstrap
  // restored to a point in time from another cluster's snapshots and binlog
  // archive (RESTORE_FROM): the first node of a new cluster, bootstraps it
  kPointInTime,
};

const char* OriginName(Origin origin);
Origin ParseOrigin(const std::string& text);

struct LockView {
  // PRIMARY_KEY exists. Once a cluster has had a primary it always does (a
  // dead holder's session releases it, never deletes it): a missing key means
  // Consul lost its state.
  bool present = false;
  uint64_t create_index = 0;  // when present: a new value means the key was created anew
  bool held = false;          // a session holds PRIMARY_KEY
  std::string holder_session;
  std::string value;  // the holder's node name (the last holder's when free)
  // The failover lock (FAILOVER_LOCK_KEY), read in the same request.
  bool failover_held = false;
  std::string failover_value;  // the coordinator's Designation, JSON

  // `session` (a node's stored session ID; empty: none) holds PRIMARY_KEY.
  bool HeldBy(const std::string& session) const {
    return held && !session.empty() && holder_session == session;
  }
};

struct RoleInputs {
  LockView lock;
  std::string my_session;  // this node's stored session ID; empty when none
  std::string my_node;     // "<service>-<hostname>"
  Role last_role = Role::kUnknown;
  Origin origin = Origin::kUnknown;
  bool replication_configured = false;  // mysqld has a replication source
  // How long this node has seen PRIMARY_KEY missing, and how long a node that
  // did not hold it must then wait before failing over (lease.h, LockLossGrace).
  std::chrono::milliseconds lock_missing_for{0};
  std::chrono::milliseconds lock_loss_grace{0};
  // This node's own lease proof still shows that nobody else can have held
  // PRIMARY_KEY since this node last proved it held it (lease.h, LeaseRunning).
  bool lease_running = false;
  // A new node (no role, no replication) that sees PRIMARY_KEY missing: how
  // long it waits before it may bootstrap (lease.h, EveryNodePassedWithin),
  // and whether another node of this service passes its check (then a cluster
  // runs whose key Consul lost). Read from Consul only for such a node.
  std::chrono::milliseconds new_node_wait{0};
  bool peers_passing = false;
};

enum class RoleAction {
  kKeepPrimary,  // our session holds the lock: renew, stay writable
  kAcquire,      // lock free and we may lead: try to take it
  kFollow,       // another node holds it: replicate from it
  kWait,         // nothing safe to do yet (reason says why); stay read-only
  kOrphaned,     // a replica whose primary is gone: keep data, await failover
  // PRIMARY_KEY vanished (Consul lost its state): a replica keeps replicating
  // and stays healthy, but starts no failover until LockLossGrace has passed,
  // so that the last primary, possibly still writable, takes the lock again.
  // A former primary that cannot show it was the last holder waits likewise.
  kAwaitLastPrimary,
};

struct RoleDecision {
  RoleAction action = RoleAction::kWait;
  std::string primary;  // node to follow (kFollow)
  std::string reason;
};

RoleDecision DecideRole(const RoleInputs& in);

}  // namespace manage::cluster
