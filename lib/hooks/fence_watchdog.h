// FenceWatchdog: bounds how long a health pass on a primary can go without
// proving that it still holds PRIMARY_KEY, whatever it is stuck on (Consul,
// DNS, a mysqld query that hangs). Armed when the pass starts; unless the pass
// proves the lock, or that the primary's lease covers it (consul_faults.h),
// and so may keep mysqld writable, within kProofDeadline, a thread of its own
// fences mysqld through a connection it opened when armed, and ends the
// process: ContainerPilot's timeout never kills a pass that has not fenced.
// While armed it owns deps.may_unfence: once it fired, nothing in the pass may
// make mysqld writable. Thread-safe; one per pass.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "hooks/deps.h"

namespace manage::hooks {

class FenceWatchdog {
 public:
  // Arms it. `fired` runs on the watchdog's thread after its fence; by default
  // it ends the process with status 1. `deps` must outlive this object.
  FenceWatchdog(Deps& deps, std::chrono::milliseconds deadline = kProofDeadline,
                std::function<void()> fired = nullptr);
  ~FenceWatchdog();  // disarms, restores deps.may_unfence
  FenceWatchdog(const FenceWatchdog&) = delete;
  FenceWatchdog& operator=(const FenceWatchdog&) = delete;

  // True when it has not fired: from now on it never will. False when it
  // fired or is firing: mysqld must stay read-only.
  bool Disarm();

 private:
  void Run();

  Deps& deps_;
  Deps own_;  // the watchdog thread's copy (its own logger)
  std::function<bool()> saved_may_unfence_;
  std::chrono::milliseconds deadline_;
  std::function<void()> fired_fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  bool fired_ = false;
  std::thread thread_;
};

}  // namespace manage::hooks
