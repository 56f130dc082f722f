// The replica's side: point replication at the primary (never running CHANGE
// MASTER while replication runs, never restarting replication that is already
// right), keep read_only ON, and judge health by threads and lag.
#pragma once

#include <string>

#include "cluster/node_state.h"
#include "hooks/deps.h"
#include "hooks/local_db.h"
#include "mysql/replica_status.h"

namespace manage::hooks {

struct SourceAddress {
  std::string node;
  std::string host;
  int port = 0;
};

// Where node `node` (a ${SERVICE_NAME} service ID) can be reached, from Consul.
// NotFound when it is not registered.
Result<SourceAddress> FindNode(Deps& deps, const std::string& node);

// Makes this node replicate from `source`: does nothing when replication already
// points there; otherwise stops it, applies a restored snapshot's GTID position
// if one is pending, changes the source and starts it. Serialised with other
// hooks on this node by a file lock in the state dir.
Status EnsureReplicatingFrom(Deps& deps, LocalDb& db, cluster::NodeState& state,
                             const SourceAddress& source);

// A health pass of a replica of `primary_node`.
Status ReplicaPass(Deps& deps, LocalDb& db, cluster::NodeState& state,
                   const std::string& primary_node, const mysql::ReplicaStatus& status);

// OK when both threads run and lag is within MAX_REPLICA_LAG.
Status CheckReplicaHealth(const Deps& deps, const mysql::ReplicaStatus& status);

}  // namespace manage::hooks
