#include "sys/clock.h"

#include <time.h>

#include <thread>

namespace manage::sys {

std::chrono::system_clock::time_point RealClock::Now() const {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point RealClock::Monotonic() const {
  return std::chrono::steady_clock::now();
}

std::chrono::milliseconds RealClock::SinceBoot() const {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

void RealClock::SleepFor(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

}  // namespace manage::sys
