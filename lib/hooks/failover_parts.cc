#include "hooks/failover_parts.h"

#include "cluster/errant.h"
#include "hooks/errant.h"
#include "hooks/file_lock.h"
#include "hooks/local_db.h"
#include "hooks/replica.h"
#include "mysql/replica_status.h"

namespace manage::hooks {

using std::chrono::seconds;

Result<std::vector<Peer>> ListPeers(Deps& deps, bool passing_only) {
  auto instances = deps.consul->Health(deps.config->service_name, passing_only);
  if (!instances.ok()) {
    return instances.status().Annotate(passing_only ? "listing passing nodes" : "listing nodes");
  }
  std::vector<Peer> out;
  for (const consul::ServiceInstance& i : *instances) {
    out.push_back({i.id, i.address, i.port, cluster::ParseNodeTags(i.tags), i.passing});
  }
  return out;
}

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
  // A replica's own writes make it look more advanced than it is: it can
  // never lead, and only what it got from the primary counts as received.
  std::string clean = gtid->executed;
  if (replica->configured && out.flavor == mysql::Flavor::kMariaDb) {
    auto errant = cluster::LocalErrant(gtid->executed, gtid->slave_pos);
    if (!errant.ok()) {
      c.error = errant.status().message();
      return out;
    }
    if (!errant->empty()) {
      c.errant = cluster::FormatErrant(*errant);
      clean = gtid->slave_pos;
    }
  }
  auto received = cluster::GtidUnion(out.flavor, clean, replica->gtid_io_pos);
  if (!received.ok()) {
    c.error = received.status().message();
    return out;
  }
  auto semi = (*conn)->Query("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'");
  c.semi_sync = semi.ok() && semi->Get(0, "Value").value_or("") == "ON";
  c.executed = gtid->executed;
  c.received = *received;
  auto applied = mysql::GtidIsSubset(out.flavor, c.received, clean);
  c.caught_up = applied.ok() && *applied;
  c.reachable = true;
  return out;
}

std::string ArmedKey(const Config& config) { return config.failover.lock_key + "-armed"; }

Result<bool> FailoverLock::Acquire(const cluster::Designation& d) {
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

Result<bool> FailoverLock::Update(const cluster::Designation& d) {
  auto ok = deps_.consul->Acquire(deps_.config->failover.lock_key, session_,
                                  cluster::SerializeDesignation(d));
  if (!ok.ok()) return ok.status().Annotate("acquiring " + deps_.config->failover.lock_key);
  return *ok;
}

void FailoverLock::Renew() {
  if (!session_.empty()) (void)deps_.consul->RenewSession(session_);
}

void FailoverLock::Release() {
  if (session_.empty()) return;
  // Destroying the session deletes the key it holds (Behavior=delete), and
  // only while it holds it: a Release first would leave the key behind, a
  // Delete of our own could remove the next coordinator's.
  (void)deps_.consul->DestroySession(session_);
  session_.clear();
}

bool WaitForHolder(Deps& deps, cluster::PrimaryLock& lock, const std::string& node,
                   std::chrono::steady_clock::time_point deadline, FailoverLock& flock) {
  while (deps.clock->Monotonic() < deadline) {
    auto view = lock.Read();
    if (view.ok() && view->held) return view->value == node;
    flock.Renew();
    deps.clock->SleepFor(kPoll);
  }
  return false;
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
  {
    // A replica's own writes first: this hook may take the seconds a
    // flashback needs, which a health pass may not.
    FileLock guard(state.Path("replication.lock"));
    if (!guard.ok()) return Status::Internal("cannot open the replication lock file");
    auto current = mysql::ReadReplicaStatus(*db->conn, db->dialect);
    if (!current.ok()) return current.status();
    MANAGE_RETURN_IF_ERROR(CheckOwnErrant(deps, *db, state, *current));
  }
  return EnsureReplicatingFrom(deps, *db, state, *source);
}

}  // namespace manage::hooks
