// Clock: wall time, monotonic time and sleeping behind one interface so that
// decisions about TTLs and deadlines can be tested with a fake clock.
// RealClock is stateless and safe to share between threads.
#pragma once

#include <chrono>

namespace manage::sys {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  // Time since the machine booted, counting time it spent suspended
  // (CLOCK_BOOTTIME): the same for every process, so one hook can measure from
  // an instant another recorded in the state dir.
  virtual std::chrono::milliseconds SinceBoot() const = 0;
  virtual void SleepFor(std::chrono::milliseconds d) = 0;
};

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point Monotonic() const override;
  std::chrono::milliseconds SinceBoot() const override;
  void SleepFor(std::chrono::milliseconds d) override;
};

}  // namespace manage::sys
