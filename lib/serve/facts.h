// The facts `manage serve` answers from: what this node's mysqld and Consul
// said at the last refresh (LocalFacts, read every half health interval) and
// the whole cluster as `manage status` sees it (ClusterFacts, every health
// interval). Plain values; FactsCache hands the newest of each to any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "mysql/replica_status.h"
#include "ops/status_report.h"

namespace manage::serve {

using SteadyTime = std::chrono::steady_clock::time_point;

struct LocalFacts {
  SteadyTime taken{};  // when the refresh that read them began
  // This node's mysqld, over its socket.
  bool mysqld_up = false;  // it answered every query below
  std::string mysqld_error;
  std::optional<bool> read_only;
  mysql::ReplicaStatus replica;  // configured=false when it replicates from nobody
  std::string gtid;              // gtid_current_pos (MySQL: gtid_executed)
  // Consul.
  bool consul_up = false;  // PRIMARY_KEY and the service's instances were read
  std::string consul_error;
  bool lock_held = false;   // a session holds PRIMARY_KEY
  std::string lock_holder;  // the node it names
  bool lock_mine = false;   // ... and it is this node's session
  std::string holder_host;  // the holder's registered address; empty when unknown
  int holder_port = 0;
  std::optional<bool> passing;  // this node's own check; nullopt when not registered
};

struct ClusterFacts {
  SteadyTime taken{};
  std::chrono::system_clock::time_point taken_wall{};
  std::optional<ops::StatusReport> report;  // nullopt when it could not be collected
  std::string error;
};

class FactsCache {
 public:
  void SetLocal(LocalFacts facts) {
    auto p = std::make_shared<const LocalFacts>(std::move(facts));
    std::lock_guard<std::mutex> guard(mu_);
    local_ = std::move(p);
  }
  void SetCluster(ClusterFacts facts) {
    auto p = std::make_shared<const ClusterFacts>(std::move(facts));
    std::lock_guard<std::mutex> guard(mu_);
    cluster_ = std::move(p);
  }
  // The newest of each; null before the first refresh.
  std::shared_ptr<const LocalFacts> Local() const {
    std::lock_guard<std::mutex> guard(mu_);
    return local_;
  }
  std::shared_ptr<const ClusterFacts> Cluster() const {
    std::lock_guard<std::mutex> guard(mu_);
    return cluster_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const LocalFacts> local_;
  std::shared_ptr<const ClusterFacts> cluster_;
};

}  // namespace manage::serve
