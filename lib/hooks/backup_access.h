// What the snapshot hook, pre_start and the backup commands share about
// snapshots: the encryption key, how new snapshots are encoded, and progress
// lines for an operator at a terminal (hooks stay quiet).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "backup/crypt.h"
#include "backup/pipeline.h"
#include "hooks/deps.h"

namespace manage::hooks {

// The key from SNAPSHOT_ENCRYPTION_KEY or SNAPSHOT_ENCRYPTION_KEY_FILE;
// nullopt when neither is set. InvalidArgument naming the variable when the
// key is malformed (never quoting it); the file's error when unreadable.
Result<std::optional<backup::BackupKey>> LoadBackupKey(const Deps& deps);

// SNAPSHOT_COMPRESSION* and `key` (borrowed; null: no encryption).
backup::Encoding SnapshotEncoding(const Config& config, const backup::BackupKey* key);

// "1.25 GB, 85.3 MB/s": bytes so far and the average rate (decimal units).
std::string FormatProgress(uint64_t bytes, std::chrono::milliseconds elapsed);

// A progress callback that rewrites one stderr line "<what> <progress>" at
// most once a second, or null when the command is not interactive. Call the
// returned `done` to end the line.
struct Progress {
  std::function<void(uint64_t bytes)> update;
  std::function<void()> done;
};
Progress ProgressLine(const Deps& deps, std::string what);

}  // namespace manage::hooks
