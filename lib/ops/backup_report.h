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

// A stretch of time a restore can reach: from its oldest snapshot to the
// newest archived transaction of a part of the binlog archive.
struct ArchiveWindow {
  std::string snapshot, from_gtid, from_time;  // the oldest snapshot it starts from
  std::string to_gtid, to_time;
  uint64_t snapshots = 0;  // that start inside it
};

struct ArchiveGapRow {
  std::string after_gtid, after_time;    // the last archived transaction before it
  std::string before_gtid, before_time;  // where the archive resumes
};

struct ArchiveReport {
  bool present = false;  // the cluster has a binlog archive
  std::string location;
  uint64_t epoch = 0;
  uint64_t segments = 0, sealed = 0, unused = 0;
  std::string head_gtid, head_time;
  std::vector<ArchiveWindow> windows;
  std::vector<ArchiveGapRow> gaps;
  std::string error;  // why it could not be read
};

struct BackupReport {
  std::string location;              // the store, e.g. "s3://backups/prod/"
  std::vector<BackupRow> snapshots;  // newest first
  std::vector<std::string> orphans;  // objects no manifest describes
  std::vector<std::string> problems;
  ArchiveReport archive;
};

std::string FormatBackupText(const BackupReport& report);
std::string FormatBackupJson(const BackupReport& report);

}  // namespace manage::ops
