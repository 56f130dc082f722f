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
  // How the stored bytes were made from mariabackup's stream; restore undoes
  // them in reverse. Records without these fields (the original's, or before
  // compression existed) are plain xbstream.
  std::string compression = "none";  // "none" or "zstd"
  std::string encryption = "none";   // "none" or "aes-256-gcm"
  std::string key_id;                // backup/crypt.h BackupKey::id; empty when not encrypted
  uint64_t raw_size = 0;             // bytes of mariabackup's stream; 0 when unknown
  uint64_t duration_ms = 0;          // how long taking it took; 0 when unknown
  std::string service;               // SERVICE_NAME of the cluster that took it
};

inline constexpr char kCompressionNone[] = "none";
inline constexpr char kCompressionZstd[] = "zstd";
inline constexpr char kEncryptionNone[] = "none";
inline constexpr char kEncryptionAesGcm[] = "aes-256-gcm";

// InvalidArgument when `json` is not an object, "id" or "dt" is missing or
// not a string, "dt" is not a timestamp, an optional field has the wrong type,
// or "compression"/"encryption" name a method this build cannot undo.
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
