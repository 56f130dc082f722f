// StopSignals: lets a long-running command wait for SIGTERM, SIGINT or SIGHUP
// (ContainerPilot stops a job with SIGTERM). Constructed on the main thread
// before any other thread starts, it blocks those signals so that they are
// only taken by Wait; the destructor restores the previous mask.
#pragma once

#include <signal.h>

#include <chrono>

namespace manage::sys {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Waits up to `timeout`; true when a stop signal arrived.
  bool Wait(std::chrono::milliseconds timeout);

 private:
  sigset_t stop_{};
  sigset_t previous_{};
};

}  // namespace manage::sys
