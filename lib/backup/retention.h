// Which snapshots to delete after a new one is stored: a pure decision over
// what the store's manifests list, so it is table-tested. A snapshot is kept
// while it is among the newest `keep_count` AND younger than `keep_days`
// (either limit 0: no limit). The snapshot LAST_BACKUP_KEY names is never
// deleted, nor one taken by another cluster (another SERVICE_NAME) sharing
// the store, nor one whose time is in the future (clock skew).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace manage::backup {

struct RetentionPolicy {
  int keep_count = 7;
  int keep_days = 0;
};

struct StoredSnapshot {
  std::string id;
  std::chrono::system_clock::time_point time;
  std::string service;
};

// The ids to delete, oldest first.
std::vector<std::string> SnapshotsToDelete(const std::vector<StoredSnapshot>& snapshots,
                                           const RetentionPolicy& policy,
                                           const std::string& service, const std::string& newest_id,
                                           std::chrono::system_clock::time_point now);

}  // namespace manage::backup
