#include "backup/snapshot_due.h"

namespace manage::backup {

SnapshotDecision DecideSnapshot(const SnapshotInputs& in) {
  if (!in.is_primary) return {false, "not the primary"};
  if (!in.last_backup) return {true, "no snapshot yet"};
  if (!in.current_binlog.empty()) {
    if (!in.last_binlog || in.last_binlog->empty()) {
      return {true, "no binlog recorded for the last snapshot"};
    }
    if (*in.last_binlog != in.current_binlog) {
      return {true, "binlog rotated from " + *in.last_binlog + " to " + in.current_binlog};
    }
  }
  if (in.now - in.last_backup->time >= in.backup_ttl) return {true, "last snapshot older than TTL"};
  return {false, "not due"};
}

}  // namespace manage::backup
