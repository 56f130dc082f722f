#include "cluster/primary_lock.h"

#include "cluster/registration.h"

namespace manage::cluster {
namespace {

// Consul's answer to a session tied to a check it does not have.
bool MissingCheck(const Status& s) {
  return s.code() == Code::kFailedPrecondition &&
         s.message().find("Missing check") != std::string::npos;
}

}  // namespace

consul::SessionSpec PrimaryLock::Spec() const {
  consul::SessionSpec spec;
  spec.name = config_->keys.session_name;
  spec.ttl = config_->session_ttl;
  spec.behavior = "release";
  spec.lock_delay = config_->lock_delay;
  const std::string check = "service:" + config_->NodeName();
  spec.checks = config_->consul_agent ? std::vector<std::string>{"serfHealth", check}
                                      : std::vector<std::string>{check};
  return spec;
}

Result<LockView> PrimaryLock::Read() {
  // One request for PRIMARY_KEY and, by default, the failover lock under it.
  const std::string& key = config_->keys.primary_key;
  const std::string& failover_key = config_->failover.lock_key;
  auto pairs = consul_->List(key);
  if (!pairs.ok()) return pairs.status().Annotate("reading " + key);
  bool failover_seen = failover_key.rfind(key, 0) == 0;
  if (!failover_seen) {
    auto kv = consul_->Get(failover_key);
    if (kv.ok()) {
      pairs->push_back(*kv);
    } else if (kv.status().code() != Code::kNotFound) {
      return kv.status().Annotate("reading " + failover_key);
    }
  }
  LockView view;
  for (const consul::KvPair& kv : *pairs) {
    if (kv.key == key) {
      view.present = true;
      view.create_index = kv.create_index;
      view.held = !kv.session.empty();
      view.holder_session = kv.session;
      view.value = kv.value;
    } else if (kv.key == failover_key) {
      view.failover_held = !kv.session.empty();
      view.failover_value = kv.value;
    }
  }
  return view;
}

Status PrimaryLock::Renew() {
  std::string id = state_->Session();
  if (id.empty()) return Status::NotFound("no session stored");
  Status s = consul_->RenewSession(id);
  if (s.code() == Code::kNotFound) {
    // The session is gone for good; never retry a stale ID.
    (void)state_->ClearSession();
  }
  return s;
}

Result<bool> PrimaryLock::Acquire() {
  std::string id = state_->Session();
  if (!id.empty() && consul_->RenewSession(id).code() == Code::kNotFound) {
    (void)state_->ClearSession();
    id.clear();
  }
  if (id.empty()) {
    auto created = consul_->CreateSession(Spec());
    if (!created.ok() && MissingCheck(created.status())) {
      Status registered = consul_->RegisterAgentService(NodeService(*config_));
      if (!registered.ok()) return registered.Annotate("registering this node's service");
      created = consul_->CreateSession(Spec());
    }
    if (!created.ok()) return created.status().Annotate("creating the primary session");
    id = *created;
    MANAGE_RETURN_IF_ERROR(state_->SetSession(id));
  }
  auto acquired = consul_->Acquire(config_->keys.primary_key, id, config_->NodeName());
  if (!acquired.ok()) return acquired.status().Annotate("acquiring " + config_->keys.primary_key);
  if (*acquired) {
    // As ContainerPilot registers it; identical to what it registered before,
    // if it did. A failure must not cost the lock: only after Consul lost the
    // service does nobody else register it again.
    (void)consul_->RegisterAgentService(PrimaryService(*config_));
  }
  return *acquired;
}

Status PrimaryLock::Release(const std::string& next_holder) {
  std::string id = state_->Session();
  if (id.empty()) return Status::Ok();
  // Once released, another node may take the lock at once: the lease proof
  // bounds nothing any more (lease.h).
  MANAGE_RETURN_IF_ERROR(state_->ClearLeaseProof());
  auto released = consul_->Release(config_->keys.primary_key, id, next_holder);
  if (!released.ok()) return released.status();
  Status s = consul_->DestroySession(id);
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  return state_->ClearSession();
}

}  // namespace manage::cluster
