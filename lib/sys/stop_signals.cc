#include "sys/stop_signals.h"

#include <pthread.h>

namespace manage::sys {

StopSignals::StopSignals() {
  sigemptyset(&stop_);
  sigaddset(&stop_, SIGTERM);
  sigaddset(&stop_, SIGINT);
  sigaddset(&stop_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_, &previous_);
}

StopSignals::~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

bool StopSignals::Wait(std::chrono::milliseconds timeout) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{static_cast<time_t>(s.count()),
              static_cast<long>(std::chrono::nanoseconds(timeout - s).count())};
  return sigtimedwait(&stop_, nullptr, &ts) > 0;
}

}  // namespace manage::sys
