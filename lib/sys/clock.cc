#include "sys/clock.h"

#include <thread>

namespace manage::sys {

std::chrono::system_clock::time_point RealClock::Now() const {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point RealClock::Monotonic() const {
  return std::chrono::steady_clock::now();
}

void RealClock::SleepFor(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

}  // namespace manage::sys
