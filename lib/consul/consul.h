// Consul: the parts of Consul's HTTP API that manage uses — sessions, KV locks and
// health queries. HttpConsul talks to an agent over an HttpTransport; tests use an
// in-memory fake with the same semantics (see test/fakes/fake_consul.h).
// Implementations are not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/transport.h"

namespace manage::consul {

struct SessionSpec {
  std::string name;
  std::chrono::seconds ttl{0};          // 0: no TTL
  std::string behavior = "release";     // "release" or "delete"
  std::chrono::seconds lock_delay{15};  // Consul's default is 15s
  // Exactly the health checks the session is tied to. Consul's default is
  // {"serfHealth"}; std::nullopt leaves it, an empty vector ties to none. Any
  // check but serfHealth must be a service check ("service:<id>").
  std::optional<std::vector<std::string>> checks;
};

// A service with one TTL check, registered through the local agent as
// ContainerPilot 3 registers a job's service (cluster/registration.h).
struct ServiceRegistration {
  std::string id;    // "<job>-<hostname>"; its check is "service:<id>"
  std::string name;  // the job's name
  std::vector<std::string> tags;
  int port = 0;
  std::string address;
  std::chrono::seconds check_ttl{0};
  std::string check_status = "passing";  // the check's status when it is new
  std::string check_notes;
};

struct KvPair {
  std::string key;
  std::string value;    // decoded; empty when Consul returns null
  std::string session;  // holder of the lock; empty when none
  uint64_t lock_index = 0;
  uint64_t create_index = 0;
  uint64_t modify_index = 0;
  uint64_t flags = 0;
};

struct ServiceInstance {
  std::string id;       // Service.ID, e.g. "mysql-node1"
  std::string service;  // Service.Service
  std::string node;     // Node.Node
  std::string address;  // Service.Address, else Node.Address
  int port = 0;
  std::vector<std::string> tags;
  bool passing = false;  // every check in Checks is "passing"
};

// One operation of a transaction (PUT /v1/txn, KV operations only).
struct TxnOp {
  enum class Verb {
    kSet,           // write value
    kCas,           // write value if the key's ModifyIndex is `index` (0: absent)
    kCheckSession,  // fail unless `session` holds the key
    kCheckIndex,    // fail unless the key's ModifyIndex is `index`
    kDelete,
  };
  Verb verb = Verb::kSet;
  std::string key;
  std::string value;
  std::string session;
  uint64_t index = 0;
};

class Consul {
 public:
  virtual ~Consul() = default;

  // Returns the new session's ID. A 500 (for example a tied check that is
  // critical) is FailedPrecondition with Consul's message.
  virtual Result<std::string> CreateSession(const SessionSpec& spec) = 0;
  // NotFound when Consul no longer knows the session: make a new one.
  virtual Status RenewSession(const std::string& id) = 0;
  virtual Status DestroySession(const std::string& id) = 0;

  // NotFound when the key does not exist.
  virtual Result<KvPair> Get(const std::string& key) = 0;
  // All pairs under a prefix, sorted by key; empty when none.
  virtual Result<std::vector<KvPair>> List(const std::string& prefix) = 0;
  virtual Status Put(const std::string& key, const std::string& value) = 0;
  // Writes only if the key's ModifyIndex equals `index` (0: only if absent).
  // Returns false when another writer won.
  virtual Result<bool> CheckAndSet(const std::string& key, const std::string& value,
                                   uint64_t index) = 0;
  // Returns false when another session holds the key or it is in lock-delay;
  // NotFound when the session no longer exists.
  virtual Result<bool> Acquire(const std::string& key, const std::string& session,
                               const std::string& value) = 0;
  // Returns false when `session` does not hold the key. Like Consul, the
  // request's body becomes the key's value: `value` ("" leaves it empty).
  virtual Result<bool> Release(const std::string& key, const std::string& session,
                               const std::string& value) = 0;
  virtual Status Delete(const std::string& key) = 0;
  // Runs `ops` atomically: all of them, or none when one fails. Aborted with
  // Consul's reason for each failed op ("op 0: failed session check for key
  // ..."); nothing was written then.
  virtual Status Txn(const std::vector<TxnOp>& ops) = 0;

  // Instances of a service; with passing_only, those whose checks all pass.
  virtual Result<std::vector<ServiceInstance>> Health(const std::string& service,
                                                      bool passing_only) = 0;

  // Registers a service and its TTL check with the local agent (the agent
  // answers by itself, also while the cluster has no leader). Registering
  // again with the same definition changes nothing, and keeps the check's
  // current status.
  virtual Status RegisterAgentService(const ServiceRegistration& service) = 0;
  // Sets a TTL check's status through the local agent, as a heartbeat.
  // NotFound when the agent has no such check (it lost it: Consul answers 500
  // "CheckID ... does not have associated TTL").
  virtual Status UpdateTtlCheck(const std::string& check_id, const std::string& status,
                                const std::string& output) = 0;
};

struct ConsulAddress {
  std::string base_url = "http://consul:8500";  // scheme://host:port, no trailing slash
  std::string token;                            // X-Consul-Token when non-empty
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  http::TlsOptions tls;  // for the transport when base_url is https
};

class HttpConsul final : public Consul {
 public:
  // `transport` must outlive this object.
  HttpConsul(http::HttpTransport* transport, ConsulAddress address);
  // Owns its transport: a client of its own for another thread.
  HttpConsul(std::unique_ptr<http::HttpTransport> transport, ConsulAddress address);

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

 private:
  std::unique_ptr<http::HttpTransport> owned_;
  http::HttpTransport* transport_;
  ConsulAddress address_;
};

}  // namespace manage::consul
