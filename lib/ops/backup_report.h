// BackupReport: what `manage backup list` shows, as a table or JSON. Pure;
// the command reads the store's manifests and LAST_BACKUP_KEY.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace manage::ops {

struct BackupRow {
  std::string id, time, gtid, node, compression, encryption, key_id, sha256;
  uint64_t size = 0;      // stored bytes
  uint64_t raw_size = 0;  // bytes of the backup stream; 0 when unknown
  uint64_t duration_ms = 0;
  bool newest = false;       // named by LAST_BACKUP_KEY
  bool has_manifest = true;  // false: known only from LAST_BACKUP_KEY
};

struct BackupReport {
  std::string location;              // the store, e.g. "s3://backups/prod/"
  std::vector<BackupRow> snapshots;  // newest first
  std::vector<std::string> orphans;  // objects no manifest describes
  std::vector<std::string> problems;
};

std::string FormatBackupText(const BackupReport& report);
std::string FormatBackupJson(const BackupReport& report);

}  // namespace manage::ops
