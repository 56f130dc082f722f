// Which server we talk to: MariaDB or MySQL, and which release. Statement
// spelling and status column names depend on both (see replication_sql.h).
// Pure value types and functions; thread-safe.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::mysql {

enum class Flavor { kMariaDb, kMySql };

// "mariadb" or "mysql".
const char* FlavorName(Flavor flavor);

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const Version&) const = default;
  std::string ToString() const;  // "10.11.6"
};

// kMariaDb when the version string mentions MariaDB (any case), else kMySql.
// "10.11.6-MariaDB-0+deb12u1-log" is MariaDB; "8.0.36" is MySQL.
Flavor DetectFlavor(std::string_view version_string);

// The leading "major.minor[.patch]" of a server version string; the "5.5.5-"
// prefix old MariaDB handshakes carry is skipped. InvalidArgument when absent.
Result<Version> ParseVersion(std::string_view version_string);

// Flavor and release together: what statement generators need.
struct Dialect {
  Flavor flavor = Flavor::kMariaDb;
  Version version;
  bool operator==(const Dialect&) const = default;
};

// Flavor and version of a server version string; InvalidArgument as ParseVersion.
Result<Dialect> DetectDialect(std::string_view version_string);

}  // namespace manage::mysql
