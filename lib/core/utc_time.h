// UTC timestamps as text, "YYYY-MM-DDTHH:MM:SS.ffffff" (microseconds, no zone
// suffix), the form manage writes into Consul records. Pure and thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace manage {

std::string FormatUtcTime(std::chrono::system_clock::time_point time);

// Reads FormatUtcTime's form; the fraction may have 0 to 9 digits, and a
// trailing "Z" or "+00:00" is accepted. InvalidArgument otherwise.
Result<std::chrono::system_clock::time_point> ParseUtcTime(std::string_view text);

}  // namespace manage
