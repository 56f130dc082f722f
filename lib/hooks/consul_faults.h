// What health (and the failover gate) do about Consul's own faults:
//   - Consul lost its state (a dev or single server restarted): PRIMARY_KEY,
//     every session and every service are gone, and ContainerPilot never
//     registers its services again. A node that is part of the cluster
//     registers its ${SERVICE_NAME} service again as ContainerPilot does; the
//     last primary, the one node whose lease shows it was the last holder,
//     takes the lock back at once (PrimaryLock::Acquire also re-registers
//     ${SERVICE_NAME}-primary); every other node waits LockLossGrace from the
//     moment it saw the key missing before it fails over. A new node (no role,
//     no replication) bootstraps a missing key only once every live node has
//     run a pass and none of the service passes its check (OtherNodesPassing).
//   - Consul does not answer (no leader, unreachable): a primary that holds the
//     lock stays writable for as long as its lease proves nobody else can have
//     taken it (cluster/lease.h), and fences when it runs out.
#pragma once

#include <chrono>
#include <optional>

#include "cluster/lease.h"
#include "cluster/node_state.h"
#include "cluster/role.h"
#include "hooks/deps.h"
#include "hooks/local_db.h"

namespace manage::hooks {

// Registers this node's ${SERVICE_NAME} service as ContainerPilot registers it.
Status RegisterNodeService(Deps& deps);

// How long this node has seen PRIMARY_KEY missing; nullopt while it exists.
// The first sighting is recorded in the state dir, and forgotten once the key
// is back.
std::optional<std::chrono::milliseconds> LockMissingFor(Deps& deps, cluster::NodeState& state,
                                                        const cluster::LockView& view);

// Whether this node's own lease proof still shows, now, that nobody else can
// have held PRIMARY_KEY since (cluster::LeaseRunning): the one thing that lets
// a former primary take back a key Consul lost (cluster/role.h).
bool OwnLeaseRunning(Deps& deps, const cluster::NodeState& state);

// Whether another node of this service passes its check: for a new node that
// sees PRIMARY_KEY missing, the sign of a running cluster whose state Consul
// lost (cluster/role.h). An error when Consul cannot say.
Result<bool> OtherNodesPassing(Deps& deps);

// Which job's pass is asking, and so which check it heartbeats itself.
enum class LeasePass {
  kNode,     // `health`: the ${SERVICE_NAME} check, the one the session is tied to
  kPrimary,  // `health --primary`: the ${SERVICE_NAME}-primary check
};

// True when PRIMARY_KEY is held by another session (or was created anew) since
// this node last saw it held. Consul that lost its state lost this node's
// service with it, which ContainerPilot never registers again, and a primary
// can take the lock back before this node ever sees it missing: a new holder
// is the only trace. It is also what every failover and switchover looks
// like, which costs one registration that changes nothing. Records the holder.
bool LockHolderChanged(cluster::NodeState& state, const cluster::LockView& view);

// A pass of the primary that started at `pass_start` (Clock::SinceBoot) got no
// answer from Consul (`consul_error`: Unavailable or DeadlineExceeded). True
// when the node, still writable, stays so under its lease (lease.h). A pass of
// `health` (kNode) keeps it through MakeWritable, as a proving pass does: that
// disarms its fence watchdog (or fails, and the node is fenced, if the
// watchdog fired first) and extends mysqld's write lease to no later than the
// lease's takeover. `health --primary` (kPrimary) makes nothing writable: it
// only does not fence. Either then heartbeats its job's check itself, if that
// fits in the pass (a heartbeat of the node's check that the agent takes
// extends the lease), and reports the failure without fencing, so that
// ContainerPilot sends no heartbeat of its own (it would wait forever on a
// Consul that never answers). False otherwise: the caller fences.
bool KeptByLease(Deps& deps, cluster::NodeState& state, LocalDb& db, const Status& consul_error,
                 std::chrono::milliseconds pass_start, LeasePass pass);

// After a pass that started at `pass_start` proved that this node holds
// PRIMARY_KEY, with a renewal sent at `renewed`: heartbeats the node's check and
// records the lease proof, if the heartbeat fits in the pass (it must end
// within kProofDeadline of the pass's start, so that it never delays the next
// pass: config.h, kPassBound). When the agent no longer has the check,
// registers the node's services again.
void RecordLeaseProof(Deps& deps, cluster::NodeState& state, std::chrono::milliseconds pass_start,
                      std::chrono::milliseconds renewed);

}  // namespace manage::hooks
