// Pieces the failover coordinator (coordinator.cc) and the switchover
// (switchover.cc) share: reading other nodes, the coordinator's lock, waiting
// for a new holder of PRIMARY_KEY, following a primary, the history. Internal
// to lib/hooks; the protocol is in failover.h.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cluster/failover.h"
#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/deps.h"
#include "mysql/flavor.h"

namespace manage::hooks {

inline constexpr std::chrono::milliseconds kPoll{100};
inline constexpr std::chrono::milliseconds kFastPoll{20};

// Another ${SERVICE_NAME} node as Consul lists it.
struct Peer {
  std::string node;
  std::string host;
  int port = 0;
  cluster::NodeTraits traits;
  bool passing = false;
};

// The ${SERVICE_NAME} instances registered in Consul, each with whether its
// checks pass; with passing_only, only those that pass.
Result<std::vector<Peer>> ListPeers(Deps& deps, bool passing_only);

// A peer's replication state, read over TCP as the replication user; an
// unreachable peer has reachable == false and the error.
struct PeerRead {
  cluster::Candidate candidate;
  mysql::Flavor flavor = mysql::Flavor::kMariaDb;
};
PeerRead ReadPeer(Deps& deps, const Peer& peer);

// The key a switchover's target writes its name to once it is ready to take
// PRIMARY_KEY.
std::string ArmedKey(const Config& config);

// The coordinator's hold on FAILOVER_LOCK_KEY: a session tied to this node's
// own service check, Behavior=delete (a dead coordinator leaves no stale
// designation) and no lock-delay (another node may take over at once).
// Released when destroyed.
class FailoverLock {
 public:
  explicit FailoverLock(Deps& deps) : deps_(deps) {}
  ~FailoverLock() { Release(); }
  FailoverLock(const FailoverLock&) = delete;
  FailoverLock& operator=(const FailoverLock&) = delete;

  // False when another coordinator holds it.
  Result<bool> Acquire(const cluster::Designation& d);
  // Rewrites the designation (the holder may acquire again with a new value).
  Result<bool> Update(const cluster::Designation& d);
  void Renew();
  void Release();

 private:
  Deps& deps_;
  std::string session_;
};

// Waits until `node` holds PRIMARY_KEY, renewing `flock` meanwhile. False when
// `deadline` passes first or another node took it.
bool WaitForHolder(Deps& deps, cluster::PrimaryLock& lock, const std::string& node,
                   std::chrono::steady_clock::time_point deadline, FailoverLock& flock);

// Whether this node has data of the cluster (a role, a bootstrap, a restored
// snapshot); a new node's first health passes decide its role instead.
bool PartOfCluster(const cluster::NodeState& state);

// Makes this node replicate from `primary` (no-op for a new node).
Status FollowPrimary(Deps& deps, cluster::NodeState& state, const std::string& primary);

// Appends `event` to FAILOVER_HISTORY_KEY with check-and-set, so that
// concurrent writers never drop an event; failures are logged, not returned.
void RecordEvent(Deps& deps, const cluster::FailoverEvent& event);

}  // namespace manage::hooks
