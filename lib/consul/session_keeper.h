// SessionKeeper: renews a Consul session from a thread of its own while the
// caller does long work (a snapshot upload whose parts may take minutes), so
// the session never expires because the work is slow. It renews every TTL/3
// through its own Consul client (clients are not thread-safe). When Consul
// says the session is gone, or no renewal has succeeded for a whole TTL (the
// session may then already be invalid), the session counts as lost: the
// keeper raises the caller's cancel flag and stops. Lost() and Stop() may be
// called from the owning thread while the keeper runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "consul/consul.h"
#include "core/log.h"

namespace manage::consul {

// What the keeper does next, from when the last renewal succeeded. Pure.
enum class KeeperStep { kWait, kRenew, kLost };
KeeperStep NextKeeperStep(std::chrono::steady_clock::duration since_success,
                          std::chrono::steady_clock::duration since_attempt,
                          std::chrono::seconds ttl);

// Keeps a session alive while the owner works; abstract so hooks can be
// tested with a synchronous fake.
class Keeper {
 public:
  virtual ~Keeper() = default;
  // Stops renewing (the session itself is left alone); idempotent.
  virtual void Stop() = 0;
  // True once the session counts as lost; why in LostReason().
  virtual bool Lost() const = 0;
  virtual std::string LostReason() const = 0;
};

class SessionKeeper final : public Keeper {
 public:
  // Starts renewing `session` at once. `cancel` (may be null) is raised when
  // the session is lost; it must outlive the keeper.
  SessionKeeper(std::unique_ptr<Consul> client, std::string session, std::chrono::seconds ttl,
                std::atomic<bool>* cancel, Logger log);
  ~SessionKeeper() override;  // stops it
  SessionKeeper(const SessionKeeper&) = delete;
  SessionKeeper& operator=(const SessionKeeper&) = delete;

  void Stop() override;
  bool Lost() const override { return lost_.load(); }
  std::string LostReason() const override;
  int renewals() const { return renewals_.load(); }

 private:
  void Run();

  std::unique_ptr<Consul> client_;
  std::string session_;
  std::chrono::seconds ttl_;
  std::atomic<bool>* cancel_;
  Logger log_;
  std::atomic<bool> lost_{false};
  std::atomic<int> renewals_{0};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::string why_;        // guarded by mu_
  std::thread thread_;
};

}  // namespace manage::consul
