// Errant transactions on this node: writes the rest of the cluster does not
// have. Found in two ways, both MariaDB only (cluster/errant.h has the rules):
//   - on every health pass of a replica, from its own state: transactions it
//     binlogged itself after what it replicated (someone wrote to it with
//     read_only off, or as a user that bypasses read_only);
//   - against a source, before following it: a former primary coming back
//     with writes that never reached the cluster.
// Either way ERRANT_POLICY applies: refuse (stay read-only, fail health, log
// the GTIDs), reclone (also shut mysqld down; pre_start moves the datadir
// aside and restores a snapshot), flashback (revert them, flashback.h, and go
// on; reclone when it cannot; in a health pass it starts the failover hook,
// which does it, and fails meanwhile).
#pragma once

#include "cluster/node_state.h"
#include "hooks/deps.h"
#include "hooks/local_db.h"
#include "hooks/replica.h"
#include "mysql/replica_status.h"

namespace manage::hooks {

// A replica's own writes (`status` is its replication status: nothing is
// checked where replication is not configured). OK when it has none, or once
// flashback reverted them (replication is then stopped, to start again);
// otherwise fences, applies ERRANT_POLICY and fails (FailedPrecondition
// naming the GTIDs).
Status CheckOwnErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                      const mysql::ReplicaStatus& status);

// Before following `source`: OK when this node has nothing it lacks, or once
// flashback reverted it (replication is then stopped); otherwise
// applies ERRANT_POLICY and fails.
Status RefuseErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                    const SourceAddress& source);

}  // namespace manage::hooks
