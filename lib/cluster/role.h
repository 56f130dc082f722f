// Role decisions: given what Consul says about PRIMARY_KEY and what this node
// knows about itself, what should this health pass do? Pure functions over
// plain structs, table-tested in test/unit/cluster/role_test.cc.
//
// The one rule that prevents two primaries: only the holder of PRIMARY_KEY may
// be writable. mysqld always boots read_only (my.cnf), and read_only is turned
// off only in a health pass that has just seen Consul name this node's own
// session as the holder.
#pragma once

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
  bool held = false;  // a session holds PRIMARY_KEY
  std::string holder_session;
  std::string value;  // the holder's node name (the last holder's when free)
  // The failover lock (FAILOVER_LOCK_KEY), read in the same request.
  bool failover_held = false;
  std::string failover_value;  // the coordinator's Designation, JSON
};

struct RoleInputs {
  LockView lock;
  std::string my_session;  // this node's stored session ID; empty when none
  std::string my_node;     // "<service>-<hostname>"
  Role last_role = Role::kUnknown;
  Origin origin = Origin::kUnknown;
  bool replication_configured = false;  // mysqld has a replication source
};

enum class RoleAction {
  kKeepPrimary,  // our session holds the lock: renew, stay writable
  kAcquire,      // lock free and we may lead: try to take it
  kFollow,       // another node holds it: replicate from it
  kWait,         // nothing safe to do yet (reason says why); stay read-only
  kOrphaned,     // a replica whose primary is gone: keep data, await failover
};

struct RoleDecision {
  RoleAction action = RoleAction::kWait;
  std::string primary;  // node to follow (kFollow)
  std::string reason;
};

RoleDecision DecideRole(const RoleInputs& in);

}  // namespace manage::cluster
