// health: runs every health interval on every node. It decides this node's role
// from PRIMARY_KEY (cluster/role.h) and converges mysqld to it:
//   primary  renew the session, bootstrap once, read_only OFF
//   replica  replicate from the lock holder, read_only ON, lag within bounds
// Exit 0 means "healthy in my role"; ContainerPilot then heartbeats the check.
//
// Cost on the steady path: one local query round-trip set and one Consul
// request (read PRIMARY_KEY); the primary also renews its session and
// heartbeats its check (its lease, consul_faults.h).
#include <fmt/format.h>

#include <optional>

#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "cluster/role.h"
#include "hooks/consul_faults.h"
#include "hooks/errant.h"
#include "hooks/failover.h"
#include "hooks/fence_watchdog.h"
#include "hooks/file_lock.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "hooks/primary.h"
#include "hooks/replica.h"
#include "mysql/replica_status.h"

namespace manage::hooks {
namespace {

// A pass the lease keeps writable still fails: see KeptByLease.
constexpr char kUnderLease[] = "not fenced: the primary's lease covers this pass";

// The health of the ${SERVICE_NAME}-primary job: does our session hold the lock?
// On a node that was primary, a "no" (or no answer) also fences it, as the
// main pass does. Two independent checks matter after a freeze: the pass that
// was frozen mid-run is killed by its timeout on resume, and the next one is a
// whole interval away; the other job's pass usually runs at once.
Status PrimaryOnly(Deps& deps, cluster::NodeState& state) {
  const auto pass_start = deps.clock->SinceBoot();
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  std::string mine = state.Session();
  if (view.ok() && view->HeldBy(mine)) {
    return Status::Ok();
  }
  Status s = !view.ok()   ? view.status()
             : view->held ? Status::FailedPrecondition(
                                fmt::format("not the primary ({} holds the lock)", view->value))
                          : Status::FailedPrecondition("not the primary (the lock is free)");
  if (state.LastRole() == cluster::Role::kPrimary) {
    auto db = ConnectLocal(deps);
    if (db.ok() && !view.ok() &&
        KeptByLease(deps, state, *db, s, pass_start, LeasePass::kPrimary)) {
      return s.Annotate(kUnderLease);
    }
    if (db.ok()) (void)EnsureReadOnly(deps, *db, true, "fenced: " + s.message());
  }
  return s;
}

}  // namespace

namespace {

// Is this node named by the coordinator? Parsed only while a failover or
// switchover runs, so a steady pass pays nothing for it.
bool Designated(const Deps& deps, const cluster::LockView& view) {
  if (!view.failover_held) return false;
  auto d = cluster::ParseDesignation(view.failover_value);
  return d.ok() && d->candidate == deps.config->NodeName();
}

// The health of a node that no primary holds the lock for: it keeps its data
// for the failover, which considers every registered node that answers.
Status OrphanHealth(Deps& deps, LocalDb& db, cluster::NodeState& state,
                    const cluster::LockView& view, const mysql::ReplicaStatus& replica) {
  MANAGE_RETURN_IF_ERROR(CheckOwnErrant(deps, db, state, replica));
  if (!replica.configured && view.value.empty() && state.LastRole() == cluster::Role::kPrimary) {
    // The lock names nobody (Consul lost it, or a release without a name): a
    // former primary with no replica role is a failover candidate like the
    // others, and may well be the most advanced. It passes, so that its check,
    // which a session needs, passes when it is chosen.
    return Status::Ok();
  }
  return CheckReplicaHealth(deps, replica).Annotate("no primary");
}

Status RolePass(Deps& deps, LocalDb& db, cluster::NodeState& state, cluster::PrimaryLock& lock,
                const cluster::LockView& view, const mysql::ReplicaStatus& replica,
                std::chrono::milliseconds pass_start, bool* under_lease) {
  cluster::RoleInputs in;
  in.lock = view;
  in.my_session = state.Session();
  in.my_node = deps.config->NodeName();
  in.last_role = state.LastRole();
  in.origin = state.DataOrigin();
  in.replication_configured = replica.configured;
  in.lock_missing_for = LockMissingFor(deps, state, view).value_or(std::chrono::milliseconds(0));
  in.lock_loss_grace = cluster::LockLossGrace(cluster::LeaseTimingOf(*deps.config));
  in.lease_running = !view.present && OwnLeaseRunning(deps, state);
  if (!view.present && in.last_role == cluster::Role::kUnknown && !replica.configured &&
      in.origin != cluster::Origin::kPointInTime) {
    // A new node: it bootstraps a missing key only when no cluster runs (role.h).
    in.new_node_wait = cluster::EveryNodePassedWithin(cluster::LeaseTimingOf(*deps.config));
    if (in.lock_missing_for >= in.new_node_wait) {
      auto peers = OtherNodesPassing(deps);
      if (!peers.ok()) return peers.status();
      in.peers_passing = *peers;
    }
  }
  cluster::RoleDecision d = cluster::DecideRole(in);
  deps.log.Debug("role decision", {{"reason", d.reason}});
  const bool new_holder = LockHolderChanged(state, view);
  if ((new_holder || !view.present) && in.last_role != cluster::Role::kUnknown &&
      d.action != cluster::RoleAction::kAcquire) {
    // Consul lost its state, this node's service with it, and ContainerPilot
    // never registers it again: without it the node is never passing again.
    (void)RegisterNodeService(deps);
  }
  if (Designated(deps, view) && d.action != cluster::RoleAction::kKeepPrimary) {
    SpawnFailoverIfIdle(deps, state, "this node is designated as the new primary");
  }

  switch (d.action) {
    case cluster::RoleAction::kKeepPrimary: {
      const auto renewing = deps.clock->SinceBoot();
      Status renewed = lock.Renew();
      if (!renewed.ok()) {
        *under_lease = KeptByLease(deps, state, db, renewed, pass_start, LeasePass::kNode);
        return renewed.Annotate(*under_lease ? kUnderLease : "renewing the primary session");
      }
      MANAGE_RETURN_IF_ERROR(PrimaryPass(deps, db, state));
      RecordLeaseProof(deps, state, pass_start, renewing);
      return Status::Ok();
    }
    case cluster::RoleAction::kAcquire: {
      const auto acquiring = deps.clock->SinceBoot();
      Status s = TryBecomePrimary(deps, db, state, lock);
      // It passes without a session only while its check is not registered yet.
      if (s.ok() && !state.Session().empty()) RecordLeaseProof(deps, state, pass_start, acquiring);
      return s;
    }
    case cluster::RoleAction::kFollow:
      MANAGE_RETURN_IF_ERROR(CheckOwnErrant(deps, db, state, replica));
      return ReplicaPass(deps, db, state, d.primary, replica);
    case cluster::RoleAction::kOrphaned:
      MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, db, true, d.reason));
      if (!view.failover_held) {
        // on_change normally starts the failover; this catches a missed event.
        SpawnFailoverIfIdle(deps, state, "no primary holds the lock and nobody coordinates");
      }
      return OrphanHealth(deps, db, state, view, replica);
    case cluster::RoleAction::kWait:
      MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, db, true, d.reason));
      return Status::FailedPrecondition(d.reason);
    case cluster::RoleAction::kAwaitLastPrimary:
      MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, db, true, d.reason));
      deps.log.Info("waiting for the last primary", {{"reason", d.reason}});
      return OrphanHealth(deps, db, state, view, replica);
  }
  return Status::Internal("unhandled role action");
}

// A switchover on this node holds kHandoverLock: it owns read_only and the
// lock until it ends. Keep the session alive through a long catch-up, and
// report healthy so that ContainerPilot keeps the check (and so the session)
// passing; the switchover itself fails over if the hand-over fails.
Status DuringHandover(Deps& deps, cluster::NodeState& state) {
  deps.log.Info("a switchover runs on this node; leaving the role to it");
  if (state.Session().empty()) return Status::Ok();  // released already
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  return lock.Renew().Annotate("renewing the primary session during a switchover");
}

}  // namespace

Status Health(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {"--primary"}));
  deps.in_health_pass = true;
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  if (HasFlag(args, "--primary")) return PrimaryOnly(deps, state);
  // The whole decision below, from reading the lock to converging mysqld,
  // happens under kHandoverLock, or not at all (failover.h: a switchover on
  // this node must not be undone by a pass that read the lock before it).
  FileLock handover(state.Path(kHandoverLock), FileLock::kTry);
  if (!handover.ok()) {
    if (!handover.busy()) return Status::Internal("cannot lock " + state.Path(kHandoverLock));
    return DuringHandover(deps, state);
  }

  // A primary's pass fences itself if it cannot prove in time that it holds
  // the lock, or that its lease covers it, whatever it is stuck on
  // (fence_watchdog.h). Both proofs disarm it through MakeWritable.
  const auto pass_start = deps.clock->SinceBoot();
  std::optional<FenceWatchdog> watchdog;
  if (state.LastRole() == cluster::Role::kPrimary) watchdog.emplace(deps);
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  auto replica = mysql::ReadReplicaStatus(*db->conn, db->dialect);
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  Result<cluster::LockView> view =
      replica.ok() ? lock.Read() : Result<cluster::LockView>(replica.status());
  if (replica.ok() && !view.ok() &&
      KeptByLease(deps, state, *db, view.status(), pass_start, LeasePass::kNode)) {
    return view.status().Annotate(kUnderLease);
  }
  bool under_lease = false;
  Status s = view.ok() ? RolePass(deps, *db, state, lock, *view, *replica, pass_start, &under_lease)
                       : view.status();
  if (!s.ok() && !under_lease && state.LastRole() == cluster::Role::kPrimary) {
    // A primary that cannot show, in this pass, that it holds the lock and is
    // healthy (or that its lease covers the pass, above) stops taking writes
    // now: whatever failed (Consul unreachable, session gone, a query), its
    // lock may be gone before the next pass. The
    // next passing pass makes it writable again if it still holds the lock.
    // This is what bounds the time a node can stay writable after losing
    // the lock (README: fencing timing).
    Status fenced = EnsureReadOnly(deps, *db, true, "fenced: " + s.message());
    if (!fenced.ok()) deps.log.Error("could not fence mysqld", {{"error", fenced.message()}});
  }
  return s;
}

}  // namespace manage::hooks
