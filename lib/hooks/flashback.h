// ERRANT_POLICY=flashback: reverts this node's errant transactions so that it
// can rejoin without a full reclone (MariaDB's counterpart of pg_rewind, as
// replication-manager does it):
//   1. read its binlogs back to where its history leaves the cluster's, and
//      plan (cluster/flashback.h): which GTIDs, from which files, and whether
//      flashback can revert them (row changes only; the binlogs must still
//      hold them; binlog_format=ROW and binlog_row_image=FULL, as my.cnf sets);
//   2. save them, decoded, to a file in the state dir (to recover by hand);
//   3. revert them: mariadb-binlog --flashback, applied with sql_log_bin=0;
//   4. drop them from the GTID state: RESET MASTER, then gtid_binlog_state
//      and gtid_slave_pos set to the last common position; a replica keeps
//      its source, stopped, without relay log or last error (RESET SLAVE).
// The caller then sets up or starts replication as for any node. Takes seconds: never
// from a health pass. Killed between 3 and 4, the next attempt fails (the
// rows are reverted already) and the node reclones.
#pragma once

#include "cluster/errant.h"
#include "cluster/node_state.h"
#include "hooks/deps.h"
#include "hooks/local_db.h"

namespace manage::hooks {

// `has`: what the cluster has (the source's history, or what this replica
// replicated). FailedPrecondition, saying why, when flashback cannot revert
// them; anything else when a step failed.
Status Flashback(Deps& deps, LocalDb& db, cluster::NodeState& state, const cluster::HasGtid& has);

}  // namespace manage::hooks
