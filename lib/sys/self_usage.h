// What this process has used so far (all its threads, none of its children):
// CPU time and peak resident memory, for the figures long operations log.
#pragma once

#include <chrono>
#include <cstdint>

namespace manage::sys {

struct SelfUsage {
  std::chrono::milliseconds cpu{0};  // user + system
  uint64_t max_rss_kb = 0;
};

SelfUsage ReadSelfUsage();

}  // namespace manage::sys
