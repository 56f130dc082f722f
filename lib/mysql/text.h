// Small string helpers shared by the parsers in lib/mysql. Internal to the
// module: not part of its public API. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace manage::mysql::internal {

// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view Trim(std::string_view text);

// `text` with every space, tab, CR and LF removed.
std::string StripSpace(std::string_view text);

// The pieces of `text` between `sep`; "" gives one empty piece.
std::vector<std::string_view> Split(std::string_view text, char sep);

// A decimal number made of digits only, no sign; nullopt on overflow or junk.
std::optional<uint64_t> ParseUint(std::string_view text);

// ASCII lower case.
std::string Lower(std::string_view text);

}  // namespace manage::mysql::internal
