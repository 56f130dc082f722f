#include "core/utc_time.h"

#include <catch2/catch.hpp>

namespace manage {
namespace {

using std::chrono::system_clock;
using namespace std::chrono_literals;

system_clock::time_point At(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
  using namespace std::chrono;
  return system_clock::time_point(sys_days(year(y) / month(mo) / day(d)).time_since_epoch() +
                                  hours(h) + minutes(mi) + seconds(s) + microseconds(us));
}

TEST_CASE("FormatUtcTime and ParseUtcTime") {
  struct Row {
    system_clock::time_point time;
    const char* text;
  };
  const Row rows[] = {
      {system_clock::time_point{}, "1970-01-01T00:00:00.000000"},
      {At(2026, 11, 23, 4, 5, 6, 7), "2026-11-23T04:05:06.000007"},
      {At(2024, 2, 29, 23, 59, 59, 999999), "2024-02-29T23:59:59.999999"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.text);
    CHECK(FormatUtcTime(r.time) == r.text);
    auto back = ParseUtcTime(r.text);
    REQUIRE(back.ok());
    CHECK(*back == r.time);
  }
  CHECK(FormatUtcTime(At(2026, 1, 2, 3, 4, 5) + 999ns) == "2026-01-02T03:04:05.000000");
  CHECK(*ParseUtcTime("2026-11-23T04:00:00") == At(2026, 11, 23, 4, 0, 0));
  CHECK(*ParseUtcTime("2026-11-23T04:00:00Z") == At(2026, 11, 23, 4, 0, 0));
  CHECK(*ParseUtcTime("2026-11-23T04:00:00.5+00:00") == At(2026, 11, 23, 4, 0, 0, 500000));
}

TEST_CASE("ParseUtcTime rejects what is not one") {
  for (const char* text :
       {"", "2026-11-23", "2026-11-23 04:00:00", "2026-02-30T00:00:00", "2026-13-01T00:00:00",
        "2026-11-23T24:00:00", "2026-11-23T04:60:00", "2026-11-23T04:00:00.",
        "2026-11-23T04:00:00.1234567890", "2026-11-23T04:00:00+02:00", "+026-11-23T04:00:00",
        "2026-11-23T04:00:0x", "2026-1-23T04:00:00"}) {
    CAPTURE(text);
    CHECK(ParseUtcTime(text).status().code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace manage
