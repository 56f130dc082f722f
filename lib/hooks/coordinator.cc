// The failover path of on_change and `manage failover` (protocol in
// failover.h): the hook's loop, driven by the pure state machine of
// cluster/failover_loop.h; the coordinator's one attempt (Coordinate); and the
// designated node's promotion (PromoteSelf).
#include <fmt/format.h>

#include "cluster/errant.h"
#include "cluster/failover_loop.h"
#include "cluster/primary_lock.h"
#include "hooks/consul_faults.h"
#include "hooks/failover.h"
#include "hooks/failover_parts.h"
#include "hooks/file_lock.h"
#include "hooks/local_db.h"
#include "hooks/primary.h"
#include "hooks/replica.h"
#include "mysql/replica_status.h"
#include "mysql/replication_sql.h"

namespace manage::hooks {
namespace {

using cluster::Designation;
using std::chrono::milliseconds;
using std::chrono::seconds;

// How many times in a row a candidate must fail to answer before the
// coordinator goes on without it: one missed connect timeout is not enough.
constexpr int kReadAttempts = 2;

// Reads every candidate until each has applied what it received (or failed
// to answer kReadAttempts times in a row), or MAX_FAILOVER_LAG passes; logs
// the positions read last.
Result<std::vector<cluster::Candidate>> ReadCandidates(Deps& deps, const std::vector<Peer>& peers,
                                                       mysql::Flavor* flavor, FailoverLock& lock) {
  auto deadline = deps.clock->Monotonic() + deps.config->failover.max_lag;
  std::vector<cluster::Candidate> out;
  std::vector<int> misses(peers.size(), 0);
  for (;;) {
    out.clear();
    bool settled = true;
    for (size_t i = 0; i < peers.size(); ++i) {
      PeerRead r = ReadPeer(deps, peers[i]);
      if (r.candidate.reachable) *flavor = r.flavor;
      misses[i] = r.candidate.reachable ? 0 : misses[i] + 1;
      settled =
          settled && (r.candidate.reachable ? r.candidate.caught_up : misses[i] >= kReadAttempts);
      out.push_back(std::move(r.candidate));
    }
    if (settled || deps.clock->Monotonic() >= deadline) break;
    lock.Renew();
    deps.clock->SleepFor(kPoll);
  }
  for (const cluster::Candidate& c : out) {
    deps.log.Info("failover candidate", {{"node", c.node},
                                         {"executed", c.executed},
                                         {"received", c.received},
                                         {"caught_up", c.caught_up ? "yes" : "no"},
                                         {"priority", std::to_string(c.priority)},
                                         {"no_failover", c.no_failover ? "yes" : "no"},
                                         {"semi_sync", c.semi_sync ? "yes" : "no"},
                                         {"errant", c.errant},
                                         {"error", c.error}});
  }
  return out;
}

// Takes PRIMARY_KEY, retrying through the lock-delay of the lost primary's
// session, and while this node's own check is not passing (Consul ties no
// session to a critical check): a candidate chosen while failing its check
// (lag, a missed pass) passes again once it has caught up.
Status AcquirePrimaryKey(Deps& deps, cluster::PrimaryLock& lock) {
  auto deadline = deps.clock->Monotonic() + deps.config->lock_delay + seconds(5);
  for (;;) {
    auto acquired = lock.Acquire();
    if (!acquired.ok()) {
      if (acquired.status().code() != Code::kFailedPrecondition ||
          deps.clock->Monotonic() >= deadline) {
        return acquired.status();
      }
      deps.clock->SleepFor(kPoll);
      continue;
    }
    if (*acquired) return Status::Ok();
    auto view = lock.Read();
    if (view.ok() && view->held) {
      return Status::Aborted(fmt::format("{} took the primary lock first", view->value));
    }
    if (deps.clock->Monotonic() >= deadline) {
      return Status::DeadlineExceeded("the primary lock stayed in lock-delay");
    }
    deps.clock->SleepFor(kPoll);
  }
}

// A designation with a source: replicate from it to get what this node lacks
// (the source has every transaction but NO_FAILOVER).
Status CatchUpFrom(Deps& deps, cluster::NodeState& state, LocalDb& db, const std::string& node) {
  auto source = FindNode(deps, node);
  if (!source.ok()) return source.status().Annotate("finding the source to catch up from");
  deps.log.Info("catching up from the most advanced node before promotion", {{"source", node}});
  return EnsureReplicatingFrom(deps, db, state, *source);
}

// This node was designated: become the primary (see the protocol in failover.h).
Status PromoteSelf(Deps& deps, cluster::NodeState& state, const Designation& d) {
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  if (!d.source.empty()) MANAGE_RETURN_IF_ERROR(CatchUpFrom(deps, state, *db, d.source));
  FileLock guard(state.Path("replication.lock"));
  if (!guard.ok()) return Status::Internal("cannot open the replication lock file");
  auto start = deps.clock->Monotonic();
  if (!d.gtid.empty()) {
    Status caught_up =
        mysql::WaitForGtid(*db->conn, db->dialect, d.gtid, deps.config->failover.max_lag);
    if (!caught_up.ok()) {
      return caught_up.Annotate("waiting to apply " + d.gtid + " before promotion");
    }
  }
  auto replica = mysql::ReadReplicaStatus(*db->conn, db->dialect);
  if (!replica.ok()) return replica.status();
  if (replica->configured) {
    MANAGE_RETURN_IF_ERROR(db->conn->Execute(mysql::StopReplicaSql(db->dialect)));
  }
  auto mine = mysql::ReadGtidState(*db->conn, db->dialect);
  if (!mine.ok()) return mine.status();
  auto complete = mysql::GtidIsSubset(db->dialect.flavor, d.gtid, mine->executed);
  if (!complete.ok() || !*complete) {
    if (replica->configured) (void)db->conn->Execute(mysql::StartReplicaSql(db->dialect));
    return Status::FailedPrecondition(fmt::format(
        "refusing promotion: this node has {} but must have {}", mine->executed, d.gtid));
  }
  if (replica->configured && db->dialect.flavor == mysql::Flavor::kMariaDb) {
    // Written to since the coordinator read it: never lead with errant writes.
    auto errant = cluster::LocalErrant(mine->executed, mine->slave_pos);
    if (!errant.ok() || !errant->empty()) {
      (void)db->conn->Execute(mysql::StartReplicaSql(db->dialect));
      return Status::FailedPrecondition(
          "refusing promotion: errant transactions " +
          (errant.ok() ? cluster::FormatErrant(*errant) : errant.status().message()));
    }
  }
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  Status acquired = AcquirePrimaryKey(deps, lock);
  if (!acquired.ok()) {
    if (replica->configured) (void)db->conn->Execute(mysql::StartReplicaSql(db->dialect));
    return acquired.Annotate("promotion");
  }
  // From here this node holds PRIMARY_KEY: finish becoming primary.
  if (replica->configured) {
    MANAGE_RETURN_IF_ERROR(db->conn->Execute(mysql::ResetReplicaSql(db->dialect)));
  }
  if (!state.Bootstrapped()) MANAGE_RETURN_IF_ERROR(state.SetBootstrapped());
  MANAGE_RETURN_IF_ERROR(state.SetRole(cluster::Role::kPrimary));
  // Semi-sync from the first write when another node will follow this one;
  // with nobody to acknowledge, PrimaryPass enables it once a replica connects.
  auto peers = ListPeers(deps, true);
  bool others = false;
  if (peers.ok()) {
    for (const Peer& p : *peers)
      others = others || (p.node != deps.config->NodeName() && p.node != d.old_primary);
  }
  if (others) MANAGE_RETURN_IF_ERROR(EnableSemiSync(deps, *db));
  MANAGE_RETURN_IF_ERROR(
      MakeWritable(deps, *db, deps.config->WriteLease(), "promoted by " + d.kind));
  auto took = std::chrono::duration_cast<milliseconds>(deps.clock->Monotonic() - start);
  deps.log.Info("promoted to primary", {{"kind", d.kind},
                                        {"gtid", mine->executed},
                                        {"required", d.gtid},
                                        {"old_primary", d.old_primary},
                                        {"took_ms", std::to_string(took.count())}});
  // A snapshot of the new primary's history, for nodes that join or reclone.
  if (deps.spawn_detached) (void)deps.spawn_detached({"snapshot", "--force"});
  return Status::Ok();
}

enum class Outcome { kDone, kBusy };

// One attempt at coordinating a failover; kBusy when another node coordinates
// or a primary appeared meanwhile.
Result<Outcome> Coordinate(Deps& deps, cluster::NodeState& state, const FailoverOptions& options) {
  const Config& config = *deps.config;
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  if (view->held || view->failover_held) return Outcome::kBusy;
  const std::string me = config.NodeName();
  const std::string kind = options.forced ? "forced failover" : "failover";
  Designation d{me, kind, view->value, "", "", ""};
  FailoverLock flock(deps);
  auto mine = flock.Acquire(d);
  if (!mine.ok()) return mine.status();
  if (!*mine) return Outcome::kBusy;
  auto start = deps.clock->Monotonic();
  view = lock.Read();  // a primary may have appeared before we got the lock
  if (!view.ok()) return view.status();
  if (view->held) return Outcome::kBusy;

  // Every registered node, passing or not: a semi-sync replica that
  // acknowledged writes may be failing its check (lag, one missed pass) and
  // still be the only one that has them.
  auto peers = ListPeers(deps, false);
  if (!peers.ok()) return peers.status();
  auto history = ReadFailoverHistory(deps);
  cluster::FailoverInputs in;
  in.lock_held = false;
  in.last_primary = view->value;
  for (const Peer& p : *peers) {
    if (p.node == view->value) in.last_primary_passing = p.passing;
  }
  in.last_automatic = history.ok() ? cluster::LastAutomatic(*history) : std::nullopt;
  in.now = deps.clock->Now();
  in.cooldown = config.failover.cooldown;
  in.forced = options.forced;
  // Consul lost its state: the last primary may still be writable for a
  // while, and takes the lock back itself (consul_faults.h).
  in.lock_missing_for = LockMissingFor(deps, state, *view);
  in.lock_loss_grace = cluster::LockLossGrace(cluster::LeaseTimingOf(config));
  cluster::FailoverDecision gate = cluster::DecideFailover(in);
  if (gate.gate != cluster::FailoverGate::kProceed) {
    deps.log.Info("no failover", {{"reason", gate.reason}});
    return gate.gate == cluster::FailoverGate::kCooldown
               ? Result<Outcome>(Status::Unavailable("failover held back: " + gate.reason))
               : Result<Outcome>(Outcome::kDone);
  }
  deps.log.Info("coordinating a failover", {{"reason", gate.reason}, {"old_primary", view->value}});

  std::vector<Peer> candidates;
  for (const Peer& p : *peers) {
    if (p.node != view->value) candidates.push_back(p);
  }
  mysql::Flavor flavor = mysql::Flavor::kMariaDb;
  auto read = ReadCandidates(deps, candidates, &flavor, flock);
  if (!read.ok()) return read.status();
  auto choice = cluster::ChooseCandidate(flavor, *read);
  if (!choice.ok()) {
    deps.log.Error("no candidate can be promoted", {{"reason", choice.status().message()}});
    return choice.status().Annotate("failover");
  }
  d.candidate = choice->node;
  d.gtid = choice->gtid;
  d.source = choice->source;
  deps.log.Info("chose the new primary", {{"node", d.candidate},
                                          {"gtid", d.gtid},
                                          {"catch_up_from", d.source},
                                          {"why", choice->reason}});
  auto updated = flock.Update(d);
  if (!updated.ok() || !*updated) return Status::Aborted("lost the failover lock");

  if (d.candidate == me) {
    MANAGE_RETURN_IF_ERROR(PromoteSelf(deps, state, d));
  } else {
    // A candidate that catches up from a source first has MAX_FAILOVER_LAG for it.
    auto deadline = deps.clock->Monotonic() + config.lock_delay + seconds(30) +
                    (d.source.empty() ? seconds(0) : config.failover.max_lag);
    if (!WaitForHolder(deps, lock, d.candidate, deadline, flock)) {
      return Status::DeadlineExceeded(d.candidate + " did not take the primary lock");
    }
  }
  cluster::FailoverEvent event;
  event.time = deps.clock->Now();
  event.kind = kind;
  event.old_primary = d.old_primary;
  event.new_primary = d.candidate;
  for (const cluster::Candidate& c : *read) event.candidates.push_back({c.node, c.executed});
  event.reason = gate.reason;
  event.duration = std::chrono::duration_cast<milliseconds>(deps.clock->Monotonic() - start);
  RecordEvent(deps, event);
  flock.Release();
  deps.log.Info("failover complete", {{"new_primary", d.candidate},
                                      {"old_primary", d.old_primary},
                                      {"took_ms", std::to_string(event.duration.count())}});
  if (d.candidate != me) MANAGE_RETURN_IF_ERROR(FollowPrimary(deps, state, d.candidate));
  return Outcome::kDone;
}

// Is `node` ("<service>-<host>") passing as ${SERVICE_NAME}-primary, whose
// instances ContainerPilot names "<service>-primary-<host>"?
bool Advertised(Deps& deps, const std::string& node) {
  const Config& config = *deps.config;
  std::string prefix = config.service_name + "-";
  if (node.rfind(prefix, 0) != 0) return false;
  std::string id = config.primary_service + "-" + node.substr(prefix.size());
  auto passing = deps.consul->Health(config.primary_service, true);
  if (!passing.ok()) return true;  // cannot tell: do not wait on a guess
  for (const consul::ServiceInstance& i : *passing) {
    if (i.id == id) return true;
  }
  return false;
}

seconds FailoverBudget(const Config& config) {
  return 2 * config.session_ttl + config.lock_delay + config.failover.max_lag + seconds(60);
}

// What the failover hook sees this turn, for NextFailoverStep.
Result<cluster::FailoverObservation> Observe(Deps& deps, cluster::NodeState& state,
                                             cluster::PrimaryLock& lock) {
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  cluster::FailoverObservation o;
  o.lock = *view;
  if (view->failover_held) {
    auto d = cluster::ParseDesignation(view->failover_value);
    if (d.ok()) o.designation = *d;
  }
  o.my_session = state.Session();
  o.me = deps.config->NodeName();
  o.part_of_cluster = PartOfCluster(state);
  return o;
}

}  // namespace

Status RunFailover(Deps& deps, cluster::NodeState& state, const FailoverOptions& options) {
  FileLock running(state.Path("failover.run"), FileLock::kTry);
  if (!running.ok()) {
    deps.log.Debug("a failover hook already runs on this node");
    return Status::Ok();
  }
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto deadline = deps.clock->Monotonic() + FailoverBudget(*deps.config);
  // A holder that is not advertised loses its session within 2x its TTL.
  auto gone_deadline =
      deps.clock->Monotonic() + 2 * deps.config->session_ttl + deps.config->lock_delay;
  bool armed = false;
  for (;;) {
    auto o = Observe(deps, state, lock);
    if (!o.ok()) return o.status();
    o->armed = armed;
    o->primary_gone = options.primary_gone;
    o->within_gone_wait = deps.clock->Monotonic() < gone_deadline;
    o->past_deadline = deps.clock->Monotonic() >= deadline;
    cluster::FailoverStep step = cluster::NextFailoverStep(*o);
    if (step == cluster::FailoverStep::kCheckAdvertised) {
      o->holder_advertised = Advertised(deps, o->lock.value);
      step = cluster::NextFailoverStep(*o);
    }
    switch (step) {
      case cluster::FailoverStep::kDone:
      case cluster::FailoverStep::kNotMember:
        return Status::Ok();
      case cluster::FailoverStep::kGiveUp:
        return Status::DeadlineExceeded("no new primary within the failover budget");
      case cluster::FailoverStep::kFollow:
        return FollowPrimary(deps, state, o->lock.value);
      case cluster::FailoverStep::kPromote:
        return PromoteSelf(deps, state, *o->designation);
      case cluster::FailoverStep::kArm:
        armed = deps.consul->Put(ArmedKey(*deps.config), o->me).ok();
        deps.log.Info("designated by a switchover; waiting for the primary to hand over",
                      {{"primary", o->lock.value}});
        deps.clock->SleepFor(kFastPoll);
        break;
      case cluster::FailoverStep::kPollFast:
        deps.clock->SleepFor(kFastPoll);
        break;
      case cluster::FailoverStep::kCheckAdvertised:  // answered above
      case cluster::FailoverStep::kPoll:
        deps.clock->SleepFor(kPoll);
        break;
      case cluster::FailoverStep::kCoordinate: {
        auto outcome = Coordinate(deps, state, options);
        if (!outcome.ok()) {
          if (outcome.status().code() != Code::kUnavailable) return outcome.status();
          // Cooldown: look again in a while; the last primary may take the lock back.
          deps.clock->SleepFor(seconds(1));
        } else if (*outcome == Outcome::kDone) {
          return Status::Ok();
        } else {
          deps.clock->SleepFor(kPoll);
        }
        break;
      }
    }
  }
}

void SpawnFailoverIfIdle(Deps& deps, cluster::NodeState& state, const std::string& why) {
  if (!deps.spawn_detached) return;
  {
    FileLock probe(state.Path("failover.run"), FileLock::kTry);
    if (!probe.ok()) return;  // one already runs
  }
  deps.log.Info("starting the failover hook", {{"why", why}});
  Status s = deps.spawn_detached({"on_change"});
  if (!s.ok()) deps.log.Warn("could not start the failover hook", {{"error", s.message()}});
}

}  // namespace manage::hooks
