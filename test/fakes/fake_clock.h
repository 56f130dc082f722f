// FakeClock: a Clock that moves only when told to. SleepFor advances it and is
// recorded, so code that waits can be tested without waiting. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "sys/clock.h"

namespace manage::sys {

class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z on the wall clock and at an arbitrary
  // monotonic origin.
  FakeClock() : wall_(std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}) {}

  std::chrono::system_clock::time_point Now() const override { return wall_ + elapsed_; }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(std::chrono::hours(1)) + elapsed_;
  }
  std::chrono::milliseconds SinceBoot() const override { return std::chrono::hours(2) + elapsed_; }
  void SleepFor(std::chrono::milliseconds d) override {
    sleeps_.push_back(d);
    Advance(d);
    if (on_sleep) on_sleep();
  }
  // Runs after every SleepFor: a test plays the other processes of a
  // protocol (another node taking a lock) while the code under test waits.
  std::function<void()> on_sleep;

  // Moves both clocks forward; negative durations are ignored.
  void Advance(std::chrono::milliseconds d) {
    if (d.count() > 0) elapsed_ += d;
  }
  // Every SleepFor argument, in order.
  const std::vector<std::chrono::milliseconds>& sleeps() const { return sleeps_; }

 private:
  std::chrono::system_clock::time_point wall_;
  std::chrono::milliseconds elapsed_{0};
  std::vector<std::chrono::milliseconds> sleeps_;
};

}  // namespace manage::sys
