#include "consul/session_keeper.h"

namespace manage::consul {
namespace {

using SteadyClock = std::chrono::steady_clock;
// How often to look again after a failed renewal within the TTL.
constexpr std::chrono::milliseconds kRetryEvery{500};

}  // namespace

KeeperStep NextKeeperStep(SteadyClock::duration since_success, SteadyClock::duration since_attempt,
                          std::chrono::seconds ttl) {
  // In milliseconds: a TTL of seconds divided by 3 would truncate.
  const auto third = std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 3;
  if (since_success >= ttl) return KeeperStep::kLost;
  if (since_success >= third && since_attempt >= std::min(kRetryEvery, third)) {
    return KeeperStep::kRenew;
  }
  return KeeperStep::kWait;
}

SessionKeeper::SessionKeeper(std::unique_ptr<Consul> client, std::string session,
                             std::chrono::seconds ttl, std::atomic<bool>* cancel, Logger log)
    : client_(std::move(client)),
      session_(std::move(session)),
      ttl_(ttl),
      cancel_(cancel),
      log_(std::move(log)),
      thread_(&SessionKeeper::Run, this) {}

SessionKeeper::~SessionKeeper() { Stop(); }

void SessionKeeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string SessionKeeper::LostReason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return why_;
}

void SessionKeeper::Run() {
  auto last_success = SteadyClock::now();  // the caller has just created or renewed it
  auto last_attempt = last_success;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto now = SteadyClock::now();
    KeeperStep step = NextKeeperStep(now - last_success, now - last_attempt, ttl_);
    if (step == KeeperStep::kWait) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      continue;
    }
    Status renewed = Status::Ok();
    if (step == KeeperStep::kRenew) {
      lock.unlock();  // Stop() must not wait for a slow request to start
      renewed = client_->RenewSession(session_);
      lock.lock();
      last_attempt = SteadyClock::now();
      if (renewed.ok()) {
        last_success = last_attempt;
        ++renewals_;
        continue;
      }
      log_.Warn("could not renew session", {{"session", session_}, {"error", renewed.message()}});
      if (renewed.code() != Code::kNotFound) continue;  // retried until the TTL is out
    }
    why_ = renewed.ok() ? "no renewal succeeded for " + std::to_string(ttl_.count()) + "s"
                        : renewed.message();
    lost_ = true;
    if (cancel_ != nullptr) *cancel_ = true;
    return;
  }
}

}  // namespace manage::consul
