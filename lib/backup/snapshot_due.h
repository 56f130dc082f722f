// DecideSnapshot: whether the primary should take a snapshot now. A pure
// function over plain values (Consul keys and SHOW MASTER STATUS are read by
// the caller), so every case is a row in a table test.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace manage::backup {

struct LastBackup {
  std::string id;
  std::chrono::system_clock::time_point time;
};

struct SnapshotInputs {
  bool is_primary = false;
  std::optional<LastBackup> last_backup;  // from LAST_BACKUP_KEY
  std::chrono::system_clock::time_point now;
  std::chrono::seconds backup_ttl{86400};
  std::optional<std::string> last_binlog;  // LAST_BINLOG_KEY: binlog file at the last snapshot
  std::string current_binlog;              // SHOW MASTER STATUS File; empty if binlog is off
};

struct SnapshotDecision {
  bool due = false;
  std::string reason;
};

// Due, in this order of precedence: never on a replica ("not the primary");
// "no snapshot yet"; "binlog rotated from X to Y" (or "no binlog recorded for
// the last snapshot" when LAST_BINLOG_KEY is missing or empty); "last snapshot older
// than TTL" once now - time >= backup_ttl. Otherwise "not due".
SnapshotDecision DecideSnapshot(const SnapshotInputs& in);

}  // namespace manage::backup
