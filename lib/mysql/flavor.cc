#include "mysql/flavor.h"

#include <string>

#include "mysql/text.h"

namespace manage::mysql {
namespace {

// Reads the digits at the front of `text` into `out`, advancing `text`.
bool TakeNumber(std::string_view& text, int& out) {
  size_t n = 0;
  while (n < text.size() && n < 9 && text[n] >= '0' && text[n] <= '9') ++n;
  if (n == 0) return false;
  auto value = internal::ParseUint(text.substr(0, n));
  if (!value) return false;
  out = static_cast<int>(*value);
  text.remove_prefix(n);
  return true;
}

bool TakeDot(std::string_view& text) {
  if (text.empty() || text.front() != '.') return false;
  text.remove_prefix(1);
  return true;
}

}  // namespace

const char* FlavorName(Flavor flavor) {
  switch (flavor) {
    case Flavor::kMariaDb:
      return "mariadb";
    case Flavor::kMySql:
      return "mysql";
  }
  return "unknown";
}

std::string Version::ToString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

Flavor DetectFlavor(std::string_view version_string) {
  if (internal::Lower(version_string).find("mariadb") != std::string::npos) {
    return Flavor::kMariaDb;
  }
  return Flavor::kMySql;
}

Result<Version> ParseVersion(std::string_view version_string) {
  std::string_view text = internal::Trim(version_string);
  constexpr std::string_view kRplHack = "5.5.5-";
  if (text.starts_with(kRplHack) && DetectFlavor(text) == Flavor::kMariaDb) {
    text.remove_prefix(kRplHack.size());
  }
  Version v;
  std::string_view rest = text;
  if (!TakeNumber(rest, v.major) || !TakeDot(rest) || !TakeNumber(rest, v.minor)) {
    return Status::InvalidArgument("cannot parse server version '" + std::string(text) + "'");
  }
  if (TakeDot(rest) && !TakeNumber(rest, v.patch)) {
    return Status::InvalidArgument("cannot parse server version '" + std::string(text) + "'");
  }
  if (!rest.empty() && ((rest.front() >= '0' && rest.front() <= '9') || rest.front() == '.')) {
    return Status::InvalidArgument("cannot parse server version '" + std::string(text) + "'");
  }
  return v;
}

Result<Dialect> DetectDialect(std::string_view version_string) {
  Result<Version> version = ParseVersion(version_string);
  if (!version.ok()) return version.status();
  return Dialect{DetectFlavor(version_string), *version};
}

}  // namespace manage::mysql
