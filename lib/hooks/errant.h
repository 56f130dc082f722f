// Errant transactions on this node: writes the rest of the cluster does not
// have. Found in two ways, both MariaDB only (cluster/errant.h has the rules):
//   - on every health pass of a replica, from its own state: transactions it
//     binlogged itself after what it replicated (someone wrote to it with
//     read_only off, or as a user that bypasses read_only);
//   - against a source, before following it: a former primary coming back
//     with writes that never reached the cluster.
// Either way ERRANT_POLICY applies: refuse (stay read-only, fail health, log
// the GTIDs), reclone (also shut mysqld down; pre_start moves the datadir
// aside and restores a snapshot).
#pragma once

#include "cluster/node_state.h"
#include "hooks/deps.h"
#include "hooks/local_db.h"
#include "hooks/replica.h"
#include "mysql/replica_status.h"

namespace manage::hooks {

// A replica's own writes (`status` is its replication status: nothing is
// checked where replication is not configured). OK when it has none;
// otherwise fences, applies ERRANT_POLICY and fails (FailedPrecondition
// naming the GTIDs).
Status CheckOwnErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                      const mysql::ReplicaStatus& status);

// Before following `source`: OK when this node has nothing it lacks;
// otherwise applies ERRANT_POLICY and fails.
Status RefuseErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                    const SourceAddress& source);

}  // namespace manage::hooks
