#include "sys/self_usage.h"

#include <sys/resource.h>

namespace manage::sys {

SelfUsage ReadSelfUsage() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return {};
  auto ms = [](const timeval& tv) {
    return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  };
  return {ms(ru.ru_utime) + ms(ru.ru_stime), static_cast<uint64_t>(ru.ru_maxrss)};
}

}  // namespace manage::sys
