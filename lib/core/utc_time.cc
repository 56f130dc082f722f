#include "core/utc_time.h"

#include <fmt/format.h>

#include <ctime>

namespace manage {

using std::chrono::system_clock;

std::string FormatUtcTime(system_clock::time_point time) {
  auto us = std::chrono::floor<std::chrono::microseconds>(time.time_since_epoch());
  auto secs = std::chrono::floor<std::chrono::seconds>(us);
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}", buf, static_cast<long long>((us - secs).count()));
}

Result<system_clock::time_point> ParseUtcTime(std::string_view text) {
  Status bad = Status::InvalidArgument(
      fmt::format("bad time '{}': want YYYY-MM-DDTHH:MM:SS[.ffffff]", text));
  std::string_view t = text;
  if (t.ends_with("Z")) {
    t.remove_suffix(1);
  } else if (t.ends_with("+00:00")) {
    t.remove_suffix(6);
  }
  std::string whole(t.substr(0, 19));
  std::tm tm{};
  const char* end = strptime(whole.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (t.size() < 19 || end == nullptr || *end != '\0') return bad;
  std::string_view frac = t.substr(19);
  long long nanos = 0;
  if (!frac.empty()) {
    if (frac.front() != '.' || frac.size() < 2 || frac.size() > 10) return bad;
    for (size_t i = 1; i < 10; ++i) {
      char c = i < frac.size() ? frac[i] : '0';
      if (c < '0' || c > '9') return bad;
      nanos = nanos * 10 + (c - '0');
    }
  }
  std::time_t secs = timegm(&tm);
  // strptime accepts what it can normalise (February 30th, unpadded fields):
  // only a time that prints back exactly as given is one.
  std::tm back{};
  char again[32];
  if (gmtime_r(&secs, &back) == nullptr ||
      std::strftime(again, sizeof again, "%Y-%m-%dT%H:%M:%S", &back) == 0 || whole != again) {
    return bad;
  }
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
      std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

}  // namespace manage
