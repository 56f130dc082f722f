#include <memory>
#include <string>
#include <utility>

#include "fakes/fake_consul.h"

namespace manage::consul {

// Forwards to a FakeConsul while acting as the agent on another node.
class FakeAgent final : public Consul {
 public:
  FakeAgent(FakeConsul* fake, std::string node) : fake_(fake), node_(std::move(node)) {}

  Result<std::string> CreateSession(const SessionSpec& spec) override {
    return As([&] { return fake_->CreateSession(spec); });
  }
  Status RenewSession(const std::string& id) override {
    return As([&] { return fake_->RenewSession(id); });
  }
  Status DestroySession(const std::string& id) override {
    return As([&] { return fake_->DestroySession(id); });
  }
  Result<KvPair> Get(const std::string& key) override {
    return As([&] { return fake_->Get(key); });
  }
  Result<std::vector<KvPair>> List(const std::string& prefix) override {
    return As([&] { return fake_->List(prefix); });
  }
  Status Put(const std::string& key, const std::string& value) override {
    return As([&] { return fake_->Put(key, value); });
  }
  Result<bool> CheckAndSet(const std::string& key, const std::string& value,
                           uint64_t index) override {
    return As([&] { return fake_->CheckAndSet(key, value, index); });
  }
  Result<bool> Acquire(const std::string& key, const std::string& session,
                       const std::string& value) override {
    return As([&] { return fake_->Acquire(key, session, value); });
  }
  Result<bool> Release(const std::string& key, const std::string& session,
                       const std::string& value) override {
    return As([&] { return fake_->Release(key, session, value); });
  }
  Status Delete(const std::string& key) override {
    return As([&] { return fake_->Delete(key); });
  }
  Status Txn(const std::vector<TxnOp>& ops) override {
    return As([&] { return fake_->Txn(ops); });
  }
  Result<std::vector<ServiceInstance>> Health(const std::string& service,
                                              bool passing_only) override {
    return As([&] { return fake_->Health(service, passing_only); });
  }
  Status RegisterAgentService(const ServiceRegistration& service) override {
    return As([&] { return fake_->RegisterAgentService(service); });
  }
  Status UpdateTtlCheck(const std::string& check_id, const std::string& status,
                        const std::string& output) override {
    return As([&] { return fake_->UpdateTtlCheck(check_id, status, output); });
  }

 private:
  template <typename Fn>
  auto As(Fn fn) -> decltype(fn()) {
    std::string saved = std::exchange(fake_->acting_node_, node_);
    auto result = fn();
    fake_->acting_node_ = std::move(saved);
    return result;
  }

  FakeConsul* fake_;
  std::string node_;
};

std::unique_ptr<Consul> FakeConsul::AgentOn(const std::string& node) {
  EnsureNode(node);
  return std::make_unique<FakeAgent>(this, node);
}

}  // namespace manage::consul
