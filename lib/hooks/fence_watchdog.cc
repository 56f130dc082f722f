#include "hooks/fence_watchdog.h"

#include <unistd.h>

#include <system_error>

#include "hooks/local_db.h"

namespace manage::hooks {

FenceWatchdog::FenceWatchdog(Deps& deps, std::chrono::milliseconds deadline,
                             std::function<void()> fired)
    : deps_(deps), own_(deps), deadline_(deadline), fired_fn_(std::move(fired)) {
  saved_may_unfence_ = std::move(deps_.may_unfence);
  deps_.may_unfence = [this] { return Disarm(); };
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    // No thread, no watchdog: the pass still fences on any failure it sees.
    deps_.log.Warn("cannot start the fence watchdog", {{"error", e.what()}});
  }
}

FenceWatchdog::~FenceWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    disarmed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  deps_.may_unfence = std::move(saved_may_unfence_);
}

bool FenceWatchdog::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fired_) return false;
  disarmed_ = true;
  cv_.notify_all();
  return true;
}

void FenceWatchdog::Run() {
  // Connected up front: when the pass is stuck, mysqld may be slow to accept.
  auto db = ConnectLocal(own_, std::chrono::seconds(1));
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_for(lock, deadline_, [this] { return disarmed_; })) return;
  // Still holding mu_: Disarm() waits, and returns false, until this is done.
  fired_ = true;
  Status fenced = db.ok() ? EnsureReadOnly(own_, *db, true,
                                           "fenced by the watchdog: the health pass did not prove "
                                           "it holds the primary lock in time")
                          : db.status();
  if (!fenced.ok()) {
    own_.log.Error("the watchdog could not fence mysqld", {{"error", fenced.message()}});
  }
  own_.log.Error("health pass stopped: it did not prove it holds the primary lock in time",
                 {{"deadline_ms", std::to_string(deadline_.count())}});
  if (fired_fn_) {
    fired_fn_();
  } else {
    ::_exit(1);
  }
}

}  // namespace manage::hooks
