// FakeConsul: an in-memory Consul with the semantics recorded in
// shared/reference/consul.md: sessions invalidated at 2×TTL on the injected
// clock, lock-delay after invalidation or destroy but not after a voluntary
// release, Behavior=delete, sessions tied to checks, health queries. Tests drive
// checks and services, inject failures and read the call log. Time moves only
// with the clock. Not thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consul/consul.h"
#include "core/status.h"
#include "sys/clock.h"

namespace manage::consul {

class FakeConsul final : public Consul {
 public:
  // `clock` must outlive this object. Calls on this object act as the agent on `node`.
  explicit FakeConsul(sys::Clock& clock, std::string node = "node1");
  ~FakeConsul() override;

  Result<std::string> CreateSession(const SessionSpec& spec) override;
  Status RenewSession(const std::string& id) override;
  Status DestroySession(const std::string& id) override;
  Result<KvPair> Get(const std::string& key) override;
  Result<std::vector<KvPair>> List(const std::string& prefix) override;
  Status Put(const std::string& key, const std::string& value) override;
  Result<bool> CheckAndSet(const std::string& key, const std::string& value,
                           uint64_t index) override;
  Result<bool> Acquire(const std::string& key, const std::string& session,
                       const std::string& value) override;
  Result<bool> Release(const std::string& key, const std::string& session,
                       const std::string& value) override;
  Status Delete(const std::string& key) override;
  Status Txn(const std::vector<TxnOp>& ops) override;
  Result<std::vector<ServiceInstance>> Health(const std::string& service,
                                              bool passing_only) override;
  Status RegisterAgentService(const ServiceRegistration& service) override;
  Status UpdateTtlCheck(const std::string& check_id, const std::string& status,
                        const std::string& output) override;

  // A client of the agent on `node` sharing this state: its sessions are tied to
  // that node's serfHealth by default. Must not outlive this object.
  std::unique_ptr<Consul> AgentOn(const std::string& node);

  // ---- Test controls: not logged, never affected by injected failures.

  // Adds or replaces an instance on instance.node (empty: this agent's node) with
  // the check "service:<id>", passing when instance.passing and critical otherwise.
  void RegisterService(ServiceInstance instance);
  // Removes the instance and its check; sessions tied to the check are invalidated.
  void DeregisterService(const std::string& service_id, const std::string& node = "");
  // Sets a check ("serfHealth", "service:<id>", ...) to "passing", "warning" or
  // "critical", creating it if needed; critical invalidates the sessions tied to it.
  void SetCheckStatus(const std::string& check_id, const std::string& status,
                      const std::string& node = "");
  // IDs for the next sessions created, before generated ones.
  void QueueSessionId(std::string id);
  // A Consul restarted without its state (a dev agent): no services, checks
  // other than every node's serfHealth, sessions, keys or lock-delays.
  void LoseState();
  // The last registration sent for a service ID through RegisterAgentService.
  std::optional<ServiceRegistration> Registration(const std::string& service_id) const;

  enum class Inject {
    kBeforeApply,  // the request never reached Consul
    kAfterApply,   // Consul applied it but the reply was lost
  };
  // The next `count` calls of `method` ("Acquire", ...; empty: any) fail with `status`.
  void FailNext(int count, Status status, std::string method = "",
                Inject when = Inject::kBeforeApply);
  void ClearFailures() { failures_.clear(); }

  struct Call {
    std::string node;
    std::string method;  // "CreateSession", "Acquire", ...
    std::string arg;     // session name, ID, key, prefix or service
  };
  // Every interface call, failed ones included, in order.
  const std::vector<Call>& calls() const { return calls_; }
  // The calls as "Method arg", for compact assertions.
  std::vector<std::string> CallLog() const;
  void ClearCalls() { calls_.clear(); }

  // Inspection, not logged; each first applies any TTL expiry due by now.
  bool SessionExists(const std::string& id);
  size_t SessionCount();
  std::optional<KvPair> Peek(const std::string& key);
  const std::string& node() const { return node_; }

 private:
  friend class FakeAgent;
  using TimePoint = std::chrono::steady_clock::time_point;
  using NodeKey = std::pair<std::string, std::string>;  // (node, service or check ID)

  struct Session {
    std::string node;
    std::string behavior;
    std::chrono::seconds ttl{0};
    std::chrono::seconds lock_delay{0};
    std::vector<std::string> checks;
    TimePoint deadline;  // invalidation time when ttl > 0
  };
  struct Failure {
    int remaining;
    Status status;
    std::string method;
    Inject when;
  };

  // Logs the call, applies TTL expiry, then runs `apply` unless a failure is injected.
  template <typename Fn>
  auto Run(const char* method, const std::string& arg, Fn apply) -> decltype(apply());
  std::optional<Failure> TakeFailure(const std::string& method);

  Result<bool> AcquireNow(const std::string& key, const std::string& session,
                          const std::string& value);
  void WriteValue(const std::string& key, const std::string& value);
  std::string ApplyTxnOp(const TxnOp& op);
  void ExpireSessions();
  void Invalidate(const std::string& id, TimePoint when);
  void InvalidateTiedTo(const std::string& node, const std::string& check_id);
  void EnsureNode(const std::string& node);
  bool CheckPassing(const std::string& node, const std::string& check_id) const;
  std::string NextSessionId();
  const std::string& NodeOrDefault(const std::string& node) const;

  sys::Clock& clock_;
  std::string node_;
  std::string acting_node_;  // the agent a call is made through
  std::map<std::string, Session> sessions_;
  std::map<std::string, KvPair> kv_;
  std::map<std::string, TimePoint> lock_delay_until_;
  std::map<NodeKey, std::string> checks_;  // status by (node, check ID)
  std::map<NodeKey, ServiceInstance> services_;
  std::map<std::string, ServiceRegistration> registrations_;
  std::deque<std::string> queued_ids_;
  std::vector<Failure> failures_;
  std::vector<Call> calls_;
  uint64_t raft_index_ = 1;
  uint64_t sessions_created_ = 0;
};

}  // namespace manage::consul
