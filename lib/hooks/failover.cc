#include "hooks/failover.h"

#include <fmt/format.h>

#include "cluster/primary_lock.h"
#include "hooks/consul_faults.h"
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
using std::chrono::steady_clock;

constexpr milliseconds kPoll{100};
constexpr milliseconds kFastPoll{20};

// ---- Consul side ---------------------------------------------------------------

struct Peer {
  std::string node;
  std::string host;
  int port = 0;
  cluster::NodeTraits traits;
};

Result<std::vector<Peer>> PassingPeers(Deps& deps) {
  auto instances = deps.consul->Health(deps.config->service_name, true);
  if (!instances.ok()) return instances.status().Annotate("listing passing nodes");
  std::vector<Peer> out;
  for (const consul::ServiceInstance& i : *instances) {
    out.push_back({i.id, i.address, i.port, cluster::ParseNodeTags(i.tags)});
  }
  return out;
}

bool Contains(const std::vector<Peer>& peers, const std::string& node) {
  for (const Peer& p : peers) {
    if (p.node == node) return true;
  }
  return false;
}

std::string ArmedKey(const Config& config) { return config.failover.lock_key + "-armed"; }

// The coordinator's hold on FAILOVER_LOCK_KEY: a session tied to this node's
// own service check, Behavior=delete (a dead coordinator leaves no stale
// designation) and no lock-delay (another node may take over at once).
class FailoverLock {
 public:
  explicit FailoverLock(Deps& deps) : deps_(deps) {}
  ~FailoverLock() { Release(); }
  FailoverLock(const FailoverLock&) = delete;
  FailoverLock& operator=(const FailoverLock&) = delete;

  // False when another coordinator holds it.
  Result<bool> Acquire(const Designation& d) {
    if (session_.empty()) {
      consul::SessionSpec spec;
      spec.name = deps_.config->service_name + "-failover";
      spec.ttl = deps_.config->session_ttl;
      spec.behavior = "delete";
      spec.lock_delay = seconds(0);
      spec.checks = std::vector<std::string>{"serfHealth", "service:" + deps_.config->NodeName()};
      auto id = deps_.consul->CreateSession(spec);
      if (!id.ok()) return id.status().Annotate("creating the failover session");
      session_ = *id;
    }
    return Update(d);
  }

  // Rewrites the designation (the holder may acquire again with a new value).
  Result<bool> Update(const Designation& d) {
    auto ok = deps_.consul->Acquire(deps_.config->failover.lock_key, session_,
                                    cluster::SerializeDesignation(d));
    if (!ok.ok()) return ok.status().Annotate("acquiring " + deps_.config->failover.lock_key);
    return *ok;
  }

  void Renew() {
    if (!session_.empty()) (void)deps_.consul->RenewSession(session_);
  }

  void Release() {
    if (session_.empty()) return;
    // Destroying the session deletes the key it holds (Behavior=delete), and
    // only while it holds it: a Release first would leave the key behind, a
    // Delete of our own could remove the next coordinator's.
    (void)deps_.consul->DestroySession(session_);
    session_.clear();
  }

 private:
  Deps& deps_;
  std::string session_;
};

Result<std::vector<cluster::FailoverEvent>> ReadHistoryAt(Deps& deps, uint64_t* index) {
  *index = 0;
  auto kv = deps.consul->Get(deps.config->failover.history_key);
  if (!kv.ok()) {
    if (kv.status().code() == Code::kNotFound) return std::vector<cluster::FailoverEvent>{};
    return kv.status();
  }
  *index = kv->modify_index;
  return cluster::ParseHistory(kv->value);
}

// Appends with check-and-set, so that concurrent writers never drop an event.
void RecordEvent(Deps& deps, const cluster::FailoverEvent& event) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint64_t index = 0;
    auto history = ReadHistoryAt(deps, &index);
    if (!history.ok()) {
      deps.log.Warn("failover history unreadable; starting it anew",
                    {{"error", history.status().message()}});
      history = std::vector<cluster::FailoverEvent>{};
    }
    auto written = deps.consul->CheckAndSet(
        deps.config->failover.history_key,
        cluster::SerializeHistory(cluster::AppendEvent(std::move(*history), event)), index);
    if (written.ok() && *written) return;
    if (!written.ok()) {
      deps.log.Warn("could not record the failover event", {{"error", written.status().message()}});
      return;
    }
  }
  deps.log.Warn("could not record the failover event: too many concurrent writers");
}

// ---- MySQL side ----------------------------------------------------------------

struct PeerRead {
  cluster::Candidate candidate;
  mysql::Flavor flavor = mysql::Flavor::kMariaDb;
};

PeerRead ReadPeer(Deps& deps, const Peer& peer) {
  PeerRead out;
  cluster::Candidate& c = out.candidate;
  c.node = peer.node;
  c.priority = peer.traits.priority;
  c.no_failover = peer.traits.no_failover;
  auto conn = deps.connector->Connect(RemoteOptions(*deps.config, peer.host, peer.port));
  if (!conn.ok()) {
    c.error = conn.status().message();
    return out;
  }
  auto dialect = mysql::DetectDialect((*conn)->ServerVersion());
  if (!dialect.ok()) {
    c.error = dialect.status().message();
    return out;
  }
  out.flavor = dialect->flavor;
  auto gtid = mysql::ReadGtidState(**conn, *dialect);
  auto replica = mysql::ReadReplicaStatus(**conn, *dialect);
  if (!gtid.ok() || !replica.ok()) {
    c.error = (!gtid.ok() ? gtid.status() : replica.status()).message();
    return out;
  }
  auto received = cluster::GtidUnion(out.flavor, gtid->executed, replica->gtid_io_pos);
  if (!received.ok()) {
    c.error = received.status().message();
    return out;
  }
  auto semi = (*conn)->Query("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'");
  c.semi_sync = semi.ok() && semi->Get(0, "Value").value_or("") == "ON";
  c.executed = gtid->executed;
  c.received = *received;
  auto applied = mysql::GtidIsSubset(out.flavor, c.received, c.executed);
  c.caught_up = applied.ok() && *applied;
  c.reachable = true;
  return out;
}

// Reads every candidate until each has applied what it received, or
// MAX_FAILOVER_LAG passes; logs the positions read last.
Result<std::vector<cluster::Candidate>> ReadCandidates(Deps& deps, const std::vector<Peer>& peers,
                                                       mysql::Flavor* flavor, FailoverLock& lock) {
  auto deadline = deps.clock->Monotonic() + deps.config->failover.max_lag;
  std::vector<cluster::Candidate> out;
  for (;;) {
    out.clear();
    bool all_caught_up = true;
    for (const Peer& p : peers) {
      PeerRead r = ReadPeer(deps, p);
      if (r.candidate.reachable) *flavor = r.flavor;
      all_caught_up = all_caught_up && (!r.candidate.reachable || r.candidate.caught_up);
      out.push_back(std::move(r.candidate));
    }
    if (all_caught_up || deps.clock->Monotonic() >= deadline) break;
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
                                         {"error", c.error}});
  }
  return out;
}

// Takes PRIMARY_KEY, retrying through the lock-delay of the lost primary's session.
Status AcquirePrimaryKey(Deps& deps, cluster::PrimaryLock& lock) {
  auto deadline = deps.clock->Monotonic() + deps.config->lock_delay + seconds(5);
  for (;;) {
    auto acquired = lock.Acquire();
    if (!acquired.ok()) return acquired.status();
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

// This node was designated: become the primary (see the protocol in failover.h).
Status PromoteSelf(Deps& deps, cluster::NodeState& state, const Designation& d) {
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
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
  auto peers = PassingPeers(deps);
  bool others = false;
  if (peers.ok()) {
    for (const Peer& p : *peers)
      others = others || (p.node != deps.config->NodeName() && p.node != d.old_primary);
  }
  if (others) MANAGE_RETURN_IF_ERROR(EnableSemiSync(deps, *db));
  MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, *db, false, "promoted by " + d.kind));
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

bool PartOfCluster(const cluster::NodeState& state) {
  return state.LastRole() != cluster::Role::kUnknown || state.Bootstrapped() ||
         state.DataOrigin() == cluster::Origin::kSnapshot;
}

Status FollowPrimary(Deps& deps, cluster::NodeState& state, const std::string& primary) {
  if (!PartOfCluster(state)) return Status::Ok();  // health decides a new node's first role
  auto source = FindNode(deps, primary);
  if (!source.ok()) return source.status().Annotate("finding the primary");
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  return EnsureReplicatingFrom(deps, *db, state, *source);
}

Result<Designation> DesignationOf(const cluster::LockView& view) {
  if (!view.failover_held) return Status::NotFound("nobody coordinates");
  return cluster::ParseDesignation(view.failover_value);
}

// Waits until `node` holds PRIMARY_KEY. False when `deadline` passes first or
// another node took it.
bool WaitForHolder(Deps& deps, cluster::PrimaryLock& lock, const std::string& node,
                   steady_clock::time_point deadline, FailoverLock& flock) {
  while (deps.clock->Monotonic() < deadline) {
    auto view = lock.Read();
    if (view.ok() && view->held) return view->value == node;
    flock.Renew();
    deps.clock->SleepFor(kPoll);
  }
  return false;
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
  Designation d{me, kind, view->value, "", ""};
  FailoverLock flock(deps);
  auto mine = flock.Acquire(d);
  if (!mine.ok()) return mine.status();
  if (!*mine) return Outcome::kBusy;
  auto start = deps.clock->Monotonic();
  view = lock.Read();  // a primary may have appeared before we got the lock
  if (!view.ok()) return view.status();
  if (view->held) return Outcome::kBusy;

  auto peers = PassingPeers(deps);
  if (!peers.ok()) return peers.status();
  uint64_t index = 0;
  auto history = ReadHistoryAt(deps, &index);
  cluster::FailoverInputs in;
  in.lock_held = false;
  in.last_primary = view->value;
  in.last_primary_passing = !view->value.empty() && Contains(*peers, view->value);
  in.last_automatic = history.ok() ? cluster::LastAutomatic(*history) : std::nullopt;
  in.now = deps.clock->Now();
  in.cooldown = config.failover.cooldown;
  in.forced = options.forced;
  in.lock_missing_for = LockMissingFor(deps, state, *view);
  in.lock_loss_grace = cluster::LockLossGrace(LeaseTiming(config));
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
  deps.log.Info("chose the new primary",
                {{"node", d.candidate}, {"gtid", d.gtid}, {"why", choice->reason}});
  auto updated = flock.Update(d);
  if (!updated.ok() || !*updated) return Status::Aborted("lost the failover lock");

  if (d.candidate == me) {
    MANAGE_RETURN_IF_ERROR(PromoteSelf(deps, state, d));
  } else {
    auto deadline = deps.clock->Monotonic() + config.lock_delay + seconds(30);
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

}  // namespace

Status RunFailover(Deps& deps, cluster::NodeState& state, const FailoverOptions& options) {
  FileLock running(state.Path("failover.run"), FileLock::kTry);
  if (!running.ok()) {
    deps.log.Debug("a failover hook already runs on this node");
    return Status::Ok();
  }
  const std::string me = deps.config->NodeName();
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto deadline = deps.clock->Monotonic() + FailoverBudget(*deps.config);
  // A holder that is not advertised loses its session within 2x its TTL.
  auto gone_deadline =
      deps.clock->Monotonic() + 2 * deps.config->session_ttl + deps.config->lock_delay;
  bool armed = false;
  while (deps.clock->Monotonic() < deadline) {
    auto view = lock.Read();
    if (!view.ok()) return view.status();
    auto d = DesignationOf(*view);
    bool designated = d.ok() && d->candidate == me;
    if (view->held) {
      std::string mine = state.Session();
      if (!mine.empty() && view->holder_session == mine) return Status::Ok();
      // Our own name under a session we do not hold: health waits it out.
      if (view->value == me) return Status::Ok();
      if (designated) {
        // A switchover names this node: be ready to take the lock the moment
        // the old primary lets go.
        if (!armed) {
          Status s = deps.consul->Put(ArmedKey(*deps.config), me);
          armed = s.ok();
          deps.log.Info("designated by a switchover; waiting for the primary to hand over",
                        {{"primary", view->value}});
        }
        deps.clock->SleepFor(kFastPoll);
        continue;
      }
      if (options.primary_gone && deps.clock->Monotonic() < gone_deadline && !view->failover_held &&
          !Advertised(deps, view->value)) {
        // Its session dies with its check, soon; wait for the lock to go.
        deps.clock->SleepFor(kPoll);
        continue;
      }
      return FollowPrimary(deps, state, view->value);
    }
    if (designated) return PromoteSelf(deps, state, *d);
    if (view->failover_held) {
      deps.clock->SleepFor(kPoll);
      continue;
    }
    if (!PartOfCluster(state)) return Status::Ok();
    auto outcome = Coordinate(deps, state, options);
    if (!outcome.ok()) {
      if (outcome.status().code() != Code::kUnavailable) return outcome.status();
      // Cooldown: look again in a while; the last primary may take the lock back.
      deps.clock->SleepFor(seconds(1));
      continue;
    }
    if (*outcome == Outcome::kDone) return Status::Ok();
    deps.clock->SleepFor(kPoll);
  }
  return Status::DeadlineExceeded("no new primary within the failover budget");
}

Status RunSwitchover(Deps& deps, cluster::NodeState& state, const SwitchoverOptions& options) {
  const Config& config = *deps.config;
  const std::string me = config.NodeName();
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  std::string mine = state.Session();
  if (!view->held || mine.empty() || view->holder_session != mine) {
    return Status::FailedPrecondition(view->held
                                          ? fmt::format("run this on the primary, {}", view->value)
                                          : "no primary holds the lock (use `manage failover`)");
  }
  auto peers = PassingPeers(deps);
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
  Designation d{me, options.kind, me, "", ""};
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
    (void)EnsureReadOnly(deps, *db, false, "switchover abandoned: target did not catch up");
    return Status::DeadlineExceeded(d.candidate + " did not catch up to " + d.gtid);
  }
  MANAGE_RETURN_IF_ERROR(lock.Release());
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

Result<std::vector<cluster::FailoverEvent>> ReadFailoverHistory(Deps& deps) {
  uint64_t index = 0;
  return ReadHistoryAt(deps, &index);
}

}  // namespace manage::hooks
