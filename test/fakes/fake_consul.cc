#include "fakes/fake_consul.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "consul/codec.h"

namespace manage::consul {

namespace {

// Consul caps a session's lock-delay at one minute.
constexpr std::chrono::seconds kMaxLockDelay{60};

Status RequireNonEmpty(const std::string& value, const char* what) {
  if (!value.empty()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " must not be empty");
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

FakeConsul::FakeConsul(sys::Clock& clock, std::string node)
    : clock_(clock), node_(std::move(node)), acting_node_(node_) {
  EnsureNode(node_);
}

FakeConsul::~FakeConsul() = default;

template <typename Fn>
auto FakeConsul::Run(const char* method, const std::string& arg, Fn apply) -> decltype(apply()) {
  calls_.push_back({acting_node_, method, arg});
  ExpireSessions();
  std::optional<Failure> failure = TakeFailure(method);
  if (failure && failure->when == Inject::kBeforeApply) return failure->status;
  auto result = apply();
  if (failure) return failure->status;
  return result;
}

std::optional<FakeConsul::Failure> FakeConsul::TakeFailure(const std::string& method) {
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    Failure taken = *it;
    if (--it->remaining <= 0) failures_.erase(it);
    return taken;
  }
  return std::nullopt;
}

void FakeConsul::FailNext(int count, Status status, std::string method, Inject when) {
  if (count > 0) failures_.push_back({count, std::move(status), std::move(method), when});
}

std::vector<std::string> FakeConsul::CallLog() const {
  std::vector<std::string> log;
  for (const Call& call : calls_) log.push_back(call.method + " " + call.arg);
  return log;
}

// ---- Sessions

Result<std::string> FakeConsul::CreateSession(const SessionSpec& spec) {
  return Run("CreateSession", spec.name, [&]() -> Result<std::string> {
    MANAGE_RETURN_IF_ERROR(ValidateSessionSpec(spec));
    const std::string what = "create session " + Quoted(spec.name);
    const std::vector<std::string> checks =
        spec.checks.value_or(std::vector<std::string>{"serfHealth"});
    for (const std::string& check : checks) {
      auto it = checks_.find({acting_node_, check});
      if (it == checks_.end()) {
        return Status::FailedPrecondition(what + ": Missing check '" + check + "' registration");
      }
      if (it->second == "critical") {
        return Status::FailedPrecondition(what + ": Check '" + check + "' is in critical state");
      }
    }
    Session session{acting_node_, spec.behavior,
                    spec.ttl,     std::min(spec.lock_delay, kMaxLockDelay),
                    checks,       {}};
    session.deadline = clock_.Monotonic() + 2 * spec.ttl;
    std::string id = NextSessionId();
    sessions_[id] = std::move(session);
    return id;
  });
}

Status FakeConsul::RenewSession(const std::string& id) {
  return Run("RenewSession", id, [&]() -> Status {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(id, "session ID"));
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
      return Status::NotFound("renew session " + Quoted(id) + ": Session id " + Quoted(id) +
                              " not found");
    }
    it->second.deadline = clock_.Monotonic() + 2 * it->second.ttl;
    return Status::Ok();
  });
}

Status FakeConsul::DestroySession(const std::string& id) {
  return Run("DestroySession", id, [&]() -> Status {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(id, "session ID"));
    Invalidate(id, clock_.Monotonic());
    return Status::Ok();
  });
}

void FakeConsul::ExpireSessions() {
  const TimePoint now = clock_.Monotonic();
  std::vector<std::pair<TimePoint, std::string>> expired;
  for (const auto& [id, session] : sessions_) {
    if (session.ttl.count() > 0 && now >= session.deadline)
      expired.emplace_back(session.deadline, id);
  }
  std::sort(expired.begin(), expired.end());
  for (const auto& [when, id] : expired) Invalidate(id, when);
}

// Releases (or deletes) what the session holds; each key enters lock-delay.
void FakeConsul::Invalidate(const std::string& id, TimePoint when) {
  auto found = sessions_.find(id);
  if (found == sessions_.end()) return;
  const Session session = std::move(found->second);
  sessions_.erase(found);
  for (auto it = kv_.begin(); it != kv_.end();) {
    if (it->second.session != id) {
      ++it;
      continue;
    }
    if (session.lock_delay.count() > 0) lock_delay_until_[it->first] = when + session.lock_delay;
    if (session.behavior == "delete") {
      it = kv_.erase(it);
      continue;
    }
    it->second.session.clear();
    it->second.modify_index = ++raft_index_;
    ++it;
  }
}

void FakeConsul::InvalidateTiedTo(const std::string& node, const std::string& check_id) {
  std::vector<std::string> tied;
  for (const auto& [id, session] : sessions_) {
    if (session.node == node &&
        std::count(session.checks.begin(), session.checks.end(), check_id)) {
      tied.push_back(id);
    }
  }
  for (const std::string& id : tied) Invalidate(id, clock_.Monotonic());
}

std::string FakeConsul::NextSessionId() {
  ++sessions_created_;
  if (!queued_ids_.empty()) {
    std::string id = std::move(queued_ids_.front());
    queued_ids_.pop_front();
    return id;
  }
  char id[40];
  std::snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(sessions_created_));
  return id;
}

void FakeConsul::QueueSessionId(std::string id) { queued_ids_.push_back(std::move(id)); }

// ---- KV

Result<KvPair> FakeConsul::Get(const std::string& key) {
  return Run("Get", key, [&]() -> Result<KvPair> {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
    auto it = kv_.find(key);
    if (it == kv_.end()) return Status::NotFound("get key " + Quoted(key) + ": no such key");
    return it->second;
  });
}

Result<std::vector<KvPair>> FakeConsul::List(const std::string& prefix) {
  return Run("List", prefix, [&]() -> Result<std::vector<KvPair>> {
    std::vector<KvPair> pairs;
    for (auto it = kv_.lower_bound(prefix); it != kv_.end() && it->first.starts_with(prefix);
         ++it) {
      pairs.push_back(it->second);
    }
    return pairs;
  });
}

// A plain write keeps the lock holder and LockIndex, as Consul does.
void FakeConsul::WriteValue(const std::string& key, const std::string& value) {
  const uint64_t index = ++raft_index_;
  auto [it, created] = kv_.try_emplace(key);
  KvPair& pair = it->second;
  if (created) {
    pair.key = key;
    pair.create_index = index;
  }
  pair.value = value;
  pair.modify_index = index;
}

Status FakeConsul::Put(const std::string& key, const std::string& value) {
  return Run("Put", key, [&]() -> Status {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
    WriteValue(key, value);
    return Status::Ok();
  });
}

Result<bool> FakeConsul::CheckAndSet(const std::string& key, const std::string& value,
                                     uint64_t index) {
  return Run("CheckAndSet", key, [&]() -> Result<bool> {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
    auto it = kv_.find(key);
    const bool matches =
        index == 0 ? it == kv_.end() : it != kv_.end() && it->second.modify_index == index;
    if (!matches) return false;
    WriteValue(key, value);
    return true;
  });
}

Result<bool> FakeConsul::Acquire(const std::string& key, const std::string& session,
                                 const std::string& value) {
  return Run("Acquire", key, [&]() -> Result<bool> {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(session, "session ID"));
    return AcquireNow(key, session, value);
  });
}

// Lock-delay is checked before the session, as Consul does.
Result<bool> FakeConsul::AcquireNow(const std::string& key, const std::string& session,
                                    const std::string& value) {
  auto delay = lock_delay_until_.find(key);
  if (delay != lock_delay_until_.end() && clock_.Monotonic() < delay->second) return false;
  if (!sessions_.count(session)) {
    return Status::NotFound("acquire key " + Quoted(key) + " for session " + Quoted(session) +
                            ": Invalid session " + Quoted(session));
  }
  auto it = kv_.find(key);
  if (it != kv_.end() && !it->second.session.empty() && it->second.session != session) {
    return false;
  }
  const bool same_holder = it != kv_.end() && it->second.session == session;
  const uint64_t lock_index = it == kv_.end() ? 0 : it->second.lock_index;
  WriteValue(key, value);
  KvPair& pair = kv_[key];
  pair.session = session;
  pair.lock_index = same_holder ? lock_index : lock_index + 1;
  return true;
}

Result<bool> FakeConsul::Release(const std::string& key, const std::string& session,
                                 const std::string& value) {
  return Run("Release", key, [&]() -> Result<bool> {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(session, "session ID"));
    auto it = kv_.find(key);
    if (it == kv_.end() || it->second.session != session) return false;
    it->second.session.clear();
    WriteValue(key, value);  // the release request's body becomes the value
    return true;
  });
}

Status FakeConsul::Delete(const std::string& key) {
  return Run("Delete", key, [&]() -> Status {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(key, "key"));
    kv_.erase(key);
    return Status::Ok();
  });
}

// consul: agent/consul/state/txn.go txnKVS; every op runs and each failure
// is reported, then the whole transaction is rolled back.
Status FakeConsul::Txn(const std::vector<TxnOp>& ops) {
  return Run("Txn", ops.empty() ? "" : ops.front().key, [&]() -> Status {
    if (ops.empty()) return Status::InvalidArgument("a transaction needs at least one operation");
    const auto saved_kv = kv_;
    const uint64_t saved_index = raft_index_;
    std::string errors;
    for (size_t i = 0; i < ops.size(); ++i) {
      std::string what = ApplyTxnOp(ops[i]);
      if (!what.empty())
        errors += (errors.empty() ? "" : "; ") + ("op " + std::to_string(i) + ": " + what);
    }
    if (errors.empty()) return Status::Ok();
    kv_ = saved_kv;
    raft_index_ = saved_index + 1;  // the failed apply still took a raft index
    return Status::Aborted("transaction on key " + Quoted(ops.front().key) +
                           " rolled back: " + errors);
  });
}

// Consul's error text for a failed op, empty when it applied.
std::string FakeConsul::ApplyTxnOp(const TxnOp& op) {
  auto it = kv_.find(op.key);
  const std::string key = "\"" + op.key + "\"";
  switch (op.verb) {
    case TxnOp::Verb::kSet:
      WriteValue(op.key, op.value);
      return "";
    case TxnOp::Verb::kCas:
      if ((it == kv_.end() ? 0 : it->second.modify_index) != op.index) {
        return "failed to set key " + key + ", index is stale";
      }
      WriteValue(op.key, op.value);
      return "";
    case TxnOp::Verb::kCheckSession:
      if (it == kv_.end()) return "failed to check session, key " + key + " doesn't exist";
      if (it->second.session != op.session) {
        return "failed session check for key " + key + ", current session \"" + it->second.session +
               "\" != \"" + op.session + "\"";
      }
      return "";
    case TxnOp::Verb::kCheckIndex:
      if (it == kv_.end()) return "failed to check index, key " + key + " doesn't exist";
      if (it->second.modify_index != op.index) {
        return "failed index check for key " + key + ", current modify index " +
               std::to_string(it->second.modify_index) + " != " + std::to_string(op.index);
      }
      return "";
    case TxnOp::Verb::kDelete:
      kv_.erase(op.key);
      return "";
  }
  return "unknown KV verb";
}

// ---- Health and checks

Result<std::vector<ServiceInstance>> FakeConsul::Health(const std::string& service,
                                                        bool passing_only) {
  return Run("Health", service, [&]() -> Result<std::vector<ServiceInstance>> {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(service, "service name"));
    std::vector<ServiceInstance> instances;
    for (const auto& [where, instance] : services_) {
      if (instance.service != service) continue;
      ServiceInstance copy = instance;
      copy.passing = CheckPassing(where.first, "serfHealth") &&
                     CheckPassing(where.first, "service:" + instance.id);
      if (!passing_only || copy.passing) instances.push_back(std::move(copy));
    }
    return instances;
  });
}

Status FakeConsul::RegisterAgentService(const ServiceRegistration& service) {
  return Run("RegisterAgentService", service.id, [&]() -> Status {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(service.name, "service name"));
    const NodeKey key{acting_node_, service.id};
    const std::string check = "service:" + service.id;
    if (!checks_.count({acting_node_, check})) {
      SetCheckStatus(check, service.check_status, acting_node_);
    }
    services_[key] = ServiceInstance{service.id,   service.name, acting_node_, service.address,
                                     service.port, service.tags, false};
    registrations_[service.id] = service;
    return Status::Ok();
  });
}

Status FakeConsul::UpdateTtlCheck(const std::string& check_id, const std::string& status,
                                  const std::string& output) {
  (void)output;
  return Run("UpdateTtlCheck", check_id, [&]() -> Status {
    MANAGE_RETURN_IF_ERROR(RequireNonEmpty(check_id, "check ID"));
    if (!checks_.count({acting_node_, check_id})) {
      return Status::NotFound("update check " + Quoted(check_id) + ": CheckID \"" + check_id +
                              "\" does not have associated TTL");
    }
    SetCheckStatus(check_id, status, acting_node_);
    return Status::Ok();
  });
}

void FakeConsul::LoseState() {
  sessions_.clear();
  kv_.clear();
  lock_delay_until_.clear();
  services_.clear();
  registrations_.clear();
  for (auto it = checks_.begin(); it != checks_.end();) {
    it = it->first.second == "serfHealth" ? std::next(it) : checks_.erase(it);
  }
}

std::optional<ServiceRegistration> FakeConsul::Registration(const std::string& service_id) const {
  auto it = registrations_.find(service_id);
  if (it == registrations_.end()) return std::nullopt;
  return it->second;
}

void FakeConsul::RegisterService(ServiceInstance instance) {
  ExpireSessions();
  instance.node = NodeOrDefault(instance.node);
  EnsureNode(instance.node);
  const NodeKey key{instance.node, instance.id};
  SetCheckStatus("service:" + instance.id, instance.passing ? "passing" : "critical",
                 instance.node);
  services_[key] = std::move(instance);
}

void FakeConsul::DeregisterService(const std::string& service_id, const std::string& node) {
  ExpireSessions();
  const std::string& where = NodeOrDefault(node);
  services_.erase({where, service_id});
  checks_.erase({where, "service:" + service_id});
  InvalidateTiedTo(where, "service:" + service_id);
}

void FakeConsul::SetCheckStatus(const std::string& check_id, const std::string& status,
                                const std::string& node) {
  ExpireSessions();
  const std::string& where = NodeOrDefault(node);
  checks_[{where, check_id}] = status;
  if (status == "critical") InvalidateTiedTo(where, check_id);
}

void FakeConsul::EnsureNode(const std::string& node) {
  checks_.try_emplace({node, "serfHealth"}, "passing");
}

bool FakeConsul::CheckPassing(const std::string& node, const std::string& check_id) const {
  auto it = checks_.find({node, check_id});
  return it != checks_.end() && it->second == "passing";
}

const std::string& FakeConsul::NodeOrDefault(const std::string& node) const {
  return node.empty() ? node_ : node;
}

// ---- Inspection

bool FakeConsul::SessionExists(const std::string& id) {
  ExpireSessions();
  return sessions_.count(id) > 0;
}

size_t FakeConsul::SessionCount() {
  ExpireSessions();
  return sessions_.size();
}

std::optional<KvPair> FakeConsul::Peek(const std::string& key) {
  ExpireSessions();
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

}  // namespace manage::consul
