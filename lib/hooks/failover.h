// Failover and switchover: who holds which lock, in what order, and what every
// node sees meanwhile. The decisions themselves are pure (cluster/failover.h,
// and the failover hook's loop in cluster/failover_loop.h). Code: the
// coordinator and promotion in coordinator.cc, the switchover in
// switchover.cc, the history in failover_history.cc, shared parts in
// failover_parts.h.
//
// Locks
//   PRIMARY_KEY        the primary's session (tied to its service check). Only
//                      its holder may be writable (see health.cc).
//   FAILOVER_LOCK_KEY  the coordinator's session (tied to the coordinator's
//                      service check, Behavior=delete, no lock-delay). Its value
//                      is the Designation: coordinator, kind, old primary, and
//                      once chosen the candidate and the GTIDs it must have.
//
// Automatic failover (on_change, or a replica's health pass finding the lock
// free and nobody coordinating):
//   1. The lock is free. Every node that notices tries FAILOVER_LOCK_KEY; one
//      wins and coordinates, the others wait, polling both keys.
//   2. The coordinator checks the gate (cooldown), reads every registered
//      ${SERVICE_NAME} instance except the lost primary over TCP, passing or
//      not (GTIDs, relay log, semi-sync, its own errant writes; one that does
//      not answer is asked again), waits up to MAX_FAILOVER_LAG for each to
//      apply what it received, chooses (ChooseCandidate: never a node with
//      errant writes) and writes the Designation.
//   3. The candidate (the coordinator itself, or a waiter that reads the
//      Designation) replicates from the Designation's source if it names one
//      (a NO_FAILOVER node that alone has every transaction), waits for the
//      GTIDs, stops replication, takes PRIMARY_KEY
//      with its own session (retrying through the lock-delay, and while its
//      own check is critical), clears its
//      replica configuration and only then turns read_only off.
//   4. The coordinator waits for the candidate to hold PRIMARY_KEY, appends the
//      event to the history, releases its lock; every other node repoints by
//      GTID (checking for errant transactions first).
// If the coordinator dies, its session dies with its check and the key is
// deleted: waiters see no coordinator and a free PRIMARY_KEY and try again.
// If the candidate dies before taking PRIMARY_KEY, the coordinator's wait
// times out, it releases, and the next attempt excludes the dead node (it no
// longer answers). Nobody is ever writable without holding PRIMARY_KEY.
//
// Switchover (`manage switchover`, and pre_stop on a clean stop), run on the
// primary P: P takes FAILOVER_LOCK_KEY and designates the target T; T's next
// health pass starts a waiter, which marks itself armed; P fences itself
// (read_only ON, application connections killed), publishes its GTIDs, waits
// until T has applied them, and releases PRIMARY_KEY naming T (a voluntary
// release has no lock-delay; only T may take a free lock that names it); T's waiter takes it within
// one poll and promotes; P then repoints to T. Writes are blocked from P's fence to T's promotion.
//
// On P itself the switchover runs beside P's own health passes, each of which
// reads PRIMARY_KEY and then converges mysqld to what it read. Interleaved, a
// pass could read "P holds the lock" just before the fence and set read_only
// OFF just after it (two writable nodes once T promotes), or read "free, and
// the value names P" just after the release and take the lock back. So the
// switchover holds the node's handover lock (kHandoverLock, a flock in the
// state dir) from before it checks that P holds PRIMARY_KEY until it has
// released it and recorded P's role as replica; a health pass makes its whole
// decision under the same lock, and one that finds it taken only renews the
// session (a long catch-up must not cost P its lock) and changes nothing.
// flock dies with its process: a killed switchover leaves no lock behind.
#pragma once

#include <string>

#include "cluster/failover.h"
#include "cluster/node_state.h"
#include "hooks/deps.h"

namespace manage::hooks {

struct FailoverOptions {
  bool forced = false;  // `manage failover --force`: ignore FAILOVER_COOLDOWN
  // on_change: the advertised primary went away but may still hold
  // PRIMARY_KEY for a moment (its session dies with its check); wait for the
  // lock to come free instead of treating the holder as healthy.
  bool primary_gone = false;
};

// The failover path of on_change and `manage failover`: follow a primary that
// holds the lock; otherwise coordinate, or wait for the coordinator and promote
// this node if it is designated. At most one runs per node at a time (a second
// returns OK at once).
Status RunFailover(Deps& deps, cluster::NodeState& state, const FailoverOptions& options);

struct SwitchoverOptions {
  std::string target;  // empty: the best candidate
  std::string kind = "switchover";
  std::string reason = "requested by an operator";
  bool rejoin = true;  // repoint this node to the new primary afterwards
};

// The state-dir file whose flock orders a switchover and health passes.
inline constexpr char kHandoverLock[] = "handover.lock";

// Hands the primary role from this node (which must hold PRIMARY_KEY) to
// another; see the protocol above. The caller holds kHandoverLock.
Status RunSwitchover(Deps& deps, cluster::NodeState& state, const SwitchoverOptions& options);

// Starts `manage on_change` detached unless one already runs on this node:
// health calls it when this node is designated, or the cluster has no primary
// and nobody coordinates (a missed watch event must not strand the cluster).
void SpawnFailoverIfIdle(Deps& deps, cluster::NodeState& state, const std::string& why);

// The events of FAILOVER_HISTORY_KEY, oldest first (empty when none).
Result<std::vector<cluster::FailoverEvent>> ReadFailoverHistory(Deps& deps);

}  // namespace manage::hooks
