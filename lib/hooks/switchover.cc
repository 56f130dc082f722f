// switchover (operators) and pre_stop (ContainerPilot, when the mysqld job is
// stopping): hand the primary role to another node without waiting for a TTL.
// The protocol is in failover.h; RunSwitchover is its primary's side.
#include <fmt/format.h>

#include <memory>

#include "cluster/primary_lock.h"
#include "hooks/failover.h"
#include "hooks/failover_parts.h"
#include "hooks/file_lock.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "mysql/replica_status.h"

namespace manage::hooks {
namespace {

using cluster::Designation;
using std::chrono::milliseconds;
using std::chrono::seconds;

// "--to NODE": NODE is a node name ("mysql-n2") or its hostname ("n2").
Result<std::string> TargetArg(const Config& config, const Args& args) {
  std::string target;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--to" && i + 1 < args.size()) {
      target = args[++i];
    } else if (args[i].rfind("--to=", 0) == 0) {
      target = args[i].substr(5);
    } else {
      return Status::InvalidArgument(fmt::format("unknown argument '{}'", args[i]));
    }
  }
  if (target.empty() && !args.empty()) return Status::InvalidArgument("--to needs a node name");
  std::string prefix = config.service_name + "-";
  if (!target.empty() && target.rfind(prefix, 0) != 0) target = prefix + target;
  return target;
}

// kHandoverLock, waiting for a health pass that holds it (a few ms; at most
// its Consul and MySQL timeouts).
Result<std::unique_ptr<FileLock>> LockHandover(cluster::NodeState& state) {
  std::string path = state.Path(kHandoverLock);
  auto held = std::make_unique<FileLock>(path);
  if (!held->ok()) return Status::Internal("cannot lock " + path);
  return held;
}

}  // namespace

Status RunSwitchover(Deps& deps, cluster::NodeState& state, const SwitchoverOptions& options) {
  const Config& config = *deps.config;
  const std::string me = config.NodeName();
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  std::string mine = state.Session();
  if (!view->HeldBy(mine)) {
    return Status::FailedPrecondition(view->held
                                          ? fmt::format("run this on the primary, {}", view->value)
                                          : "no primary holds the lock (use `manage failover`)");
  }
  auto peers = ListPeers(deps, true);
  if (!peers.ok()) return peers.status();
  std::vector<Peer> candidates;
  for (const Peer& p : *peers) {
    if (p.node != me && (options.target.empty() || p.node == options.target)) {
      candidates.push_back(p);
    }
  }
  if (candidates.empty()) {
    return Status::FailedPrecondition(options.target.empty()
                                          ? "no other passing node to hand over to"
                                          : options.target + " is not a passing " +
                                                config.service_name + " node");
  }
  Designation d{me, options.kind, me, "", "", ""};
  FailoverLock flock(deps);
  auto got = flock.Acquire(d);
  if (!got.ok()) return got.status();
  if (!*got) return Status::Aborted("a failover or switchover is already running");

  // Choose among replicas as they are now; the target catches up below.
  mysql::Flavor flavor = mysql::Flavor::kMariaDb;
  std::vector<cluster::Candidate> read;
  for (const Peer& p : candidates) {
    PeerRead r = ReadPeer(deps, p);
    if (r.candidate.reachable) flavor = r.flavor;
    r.candidate.caught_up = true;
    r.candidate.received = r.candidate.executed;
    if (!options.target.empty()) r.candidate.no_failover = false;  // an explicit choice
    read.push_back(std::move(r.candidate));
  }
  std::vector<cluster::Candidate> ranked = read;
  if (options.target.empty()) {
    // Everyone is replicating from us: rank by priority among those close
    // enough, not by who happened to be a few transactions ahead.
    for (cluster::Candidate& c : ranked) {
      if (c.reachable) c.executed = c.received = "";
    }
  }
  auto choice = cluster::ChooseCandidate(flavor, ranked);
  if (!choice.ok()) return choice.status().Annotate("switchover");
  d.candidate = choice->node;
  auto updated = flock.Update(d);
  if (!updated.ok() || !*updated) return Status::Aborted("lost the failover lock");
  deps.log.Info("switchover: handing over", {{"to", d.candidate}, {"kind", d.kind}});

  // Wait (bounded) for the target's waiter, so that it takes the lock at once.
  auto arm_deadline = deps.clock->Monotonic() + seconds(5);
  bool armed = false;
  while (!armed && deps.clock->Monotonic() < arm_deadline) {
    auto kv = deps.consul->Get(ArmedKey(config));
    armed = kv.ok() && kv->value == d.candidate;
    if (!armed) deps.clock->SleepFor(kPoll);
  }
  if (!armed) deps.log.Warn("the target did not confirm it is ready; handing over anyway");

  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  auto fenced_at = deps.clock->Monotonic();
  MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, *db, true, d.kind + " to " + d.candidate));
  auto gtid = mysql::ReadGtidState(*db->conn, db->dialect);
  if (!gtid.ok()) return gtid.status();
  d.gtid = gtid->executed;
  updated = flock.Update(d);
  if (!updated.ok() || !*updated) return Status::Aborted("lost the failover lock");

  // The target must have everything before this node lets go.
  Peer target;
  for (const Peer& p : candidates) {
    if (p.node == d.candidate) target = p;
  }
  auto catch_up_deadline = deps.clock->Monotonic() + config.failover.max_lag;
  bool caught_up = false;
  while (!caught_up && deps.clock->Monotonic() < catch_up_deadline) {
    PeerRead r = ReadPeer(deps, target);
    auto has = mysql::GtidIsSubset(db->dialect.flavor, d.gtid, r.candidate.executed);
    caught_up = r.candidate.reachable && has.ok() && *has;
    if (!caught_up) deps.clock->SleepFor(kFastPoll);
  }
  if (!caught_up) {
    // Abandoned. This node stays fenced: it has not read PRIMARY_KEY since the
    // fence, and the lock may have gone meanwhile (its session lost, another
    // node promoted). Its next health pass reads the lock and, if this node
    // still holds it, makes it writable again.
    deps.log.Warn(
        "switchover abandoned: the target did not catch up; staying read-only until "
        "the next health pass",
        {{"target", d.candidate}, {"gtid", d.gtid}});
    return Status::DeadlineExceeded(d.candidate + " did not catch up to " + d.gtid);
  }
  MANAGE_RETURN_IF_ERROR(lock.Release(d.candidate));
  // From here this node is not the primary, whoever takes the lock: a health
  // pass after the caller drops kHandoverLock must follow (or, if nobody takes
  // it, fail over), never take the lock back.
  MANAGE_RETURN_IF_ERROR(state.SetRole(cluster::Role::kReplica));
  bool handed = WaitForHolder(deps, lock, d.candidate,
                              deps.clock->Monotonic() + config.lock_delay + seconds(15), flock);
  auto blocked = std::chrono::duration_cast<milliseconds>(deps.clock->Monotonic() - fenced_at);
  (void)deps.consul->Delete(ArmedKey(config));
  if (!handed) {
    return Status::DeadlineExceeded(d.candidate +
                                    " did not take the primary lock; the cluster fails over");
  }
  cluster::FailoverEvent event;
  event.time = deps.clock->Now();
  event.kind = d.kind;
  event.old_primary = me;
  event.new_primary = d.candidate;
  for (const cluster::Candidate& c : read) event.candidates.push_back({c.node, c.executed});
  event.reason = options.reason;
  event.duration = blocked;
  RecordEvent(deps, event);
  flock.Release();
  deps.log.Info("switchover complete", {{"new_primary", d.candidate},
                                        {"gtid", d.gtid},
                                        {"writes_blocked_ms", std::to_string(blocked.count())}});
  if (!options.rejoin) return Status::Ok();
  return FollowPrimary(deps, state, d.candidate);
}

Status Switchover(Deps& deps, const Args& args) {
  auto target = TargetArg(*deps.config, args);
  if (!target.ok()) return target.status();
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  auto handover = LockHandover(state);
  if (!handover.ok()) return handover.status();
  SwitchoverOptions options;
  options.target = *target;
  return RunSwitchover(deps, state, options);
}

Status PreStop(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {}));
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  // Held through the fallback too: no health pass may undo its fence.
  auto handover = LockHandover(state);
  if (!handover.ok()) return handover.status();
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  std::string mine = state.Session();
  if (!view->HeldBy(mine)) return Status::Ok();
  SwitchoverOptions options;
  options.reason = "clean stop of the primary";
  options.rejoin = false;
  Status handed = RunSwitchover(deps, state, options);
  if (handed.ok()) return handed;
  // Nobody took over (a single node, or the hand-over failed): stop taking
  // writes, and end the session rather than release the lock, so that the
  // key keeps naming this node as the last primary (a failover then leaves it
  // out while it stops) and returns to it after a restart if nobody else leads.
  deps.log.Warn("no hand-over; fencing and ending the primary session",
                {{"reason", handed.message()}});
  auto db = ConnectLocal(deps);
  if (db.ok()) (void)EnsureReadOnly(deps, *db, true, "clean stop");
  (void)state.ClearLeaseProof();  // the lock is given up: the proof bounds nothing now
  if (!mine.empty()) (void)deps.consul->DestroySession(mine);
  (void)state.ClearSession();
  return handed;
}

}  // namespace manage::hooks
