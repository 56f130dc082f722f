// What health (and the failover gate) do about Consul's own faults:
//   - Consul lost its state (a dev or single server restarted): PRIMARY_KEY,
//     every session and every service are gone, and ContainerPilot never
//     registers its services again. A node that is part of the cluster
//     registers its ${SERVICE_NAME} service again as ContainerPilot does; the
//     last primary takes the lock back at once (PrimaryLock::Acquire also
//     re-registers ${SERVICE_NAME}-primary); every other node waits
//     LockLossGrace from the moment it saw the key missing before it fails over.
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

// The longest each Consul request of a health pass may take (main.cc), and so
// the longest pass (P in lease.h): two requests' worth, plus local work. A pass
// makes at most two before its fence, and sends the check's heartbeat of its
// own only while that still fits (HeartbeatFits).
inline constexpr std::chrono::milliseconds kHealthConsulTimeout{1000};
inline constexpr std::chrono::milliseconds kHealthPassBudget =
    2 * kHealthConsulTimeout + std::chrono::milliseconds(100);

cluster::LeaseTiming LeaseTiming(const Config& config);

// Registers this node's ${SERVICE_NAME} service as ContainerPilot registers it.
Status RegisterNodeService(Deps& deps);

// How long this node has seen PRIMARY_KEY missing; nullopt while it exists.
// The first sighting is recorded in the state dir, and forgotten once the key
// is back.
std::optional<std::chrono::milliseconds> LockMissingFor(Deps& deps, cluster::NodeState& state,
                                                        const cluster::LockView& view);

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
// when the node, still writable, may stay so under its lease (lease.h): the
// pass then heartbeats its job's check itself (a heartbeat of the node's check
// that the agent takes extends the lease) and reports the failure without
// fencing, so that ContainerPilot sends no heartbeat of its own (it would wait
// forever on a Consul that never answers). False otherwise: the caller fences.
bool KeptByLease(Deps& deps, cluster::NodeState& state, LocalDb& db, const Status& consul_error,
                 std::chrono::milliseconds pass_start, LeasePass pass);

// After a pass that started at `pass_start` proved that this node holds
// PRIMARY_KEY, with a renewal sent at `renewed`: heartbeats the node's check and
// records the lease proof, if the heartbeat fits in the pass. When the agent no
// longer has the check, registers the node's services again.
void RecordLeaseProof(Deps& deps, cluster::NodeState& state, std::chrono::milliseconds pass_start,
                      std::chrono::milliseconds renewed);

}  // namespace manage::hooks
