// BackupRecord: the JSON kept at LAST_BACKUP_KEY describing the newest
// snapshot. The original wrote {"id", "dt"} only; the other fields are
// optional when parsing so those records still load. Also the snapshot name
// (BACKUP_NAME strftime pattern) and the "dt" timestamp format, both in UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::backup {

inline constexpr char kDefaultBackupName[] = "mysql-backup-%Y-%m-%dT%H-%M-%SZ";

struct BackupRecord {
  std::string id;                              // object name in the store
  std::chrono::system_clock::time_point time;  // "dt": when the snapshot started
  std::string gtid;                            // GTID of the last change in it
  std::string binlog;                          // binlog file current at the snapshot
  uint64_t size = 0;                           // bytes; 0 when unknown
  std::string sha256;                          // lowercase hex; empty when unknown
  std::string node;                            // the host that took it
  std::string store;                           // backend, e.g. "local", "s3"
};

// InvalidArgument when `json` is not an object, "id" or "dt" is missing or
// not a string, "dt" is not a timestamp, or an optional field has the wrong type.
Result<BackupRecord> ParseBackupRecord(std::string_view json);
// A JSON object with every field; "dt" as FormatBackupTime writes it.
std::string SerializeBackupRecord(const BackupRecord& record);

// "2026-11-23T04:00:00.000000" (UTC, microseconds), as Python's isoformat().
std::string FormatBackupTime(std::chrono::system_clock::time_point time);
// Reads FormatBackupTime's format; the fraction (1-9 digits) and a trailing
// "Z" or "+00:00" are optional. InvalidArgument otherwise.
Result<std::chrono::system_clock::time_point> ParseBackupTime(std::string_view text);

// strftime(pattern) of `time` in UTC, e.g. "mysql-backup-2026-11-23T04-00-00Z".
// InvalidArgument when the result is empty or not a valid object name.
Result<std::string> BackupName(std::string_view pattern,
                               std::chrono::system_clock::time_point time);

}  // namespace manage::backup
