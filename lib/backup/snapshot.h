// The snapshot pipeline. TakeSnapshot streams `mariabackup --backup` through
// compression and encryption (backup/pipeline.h) straight into an
// ObjectWriter while hashing what is stored (no staging copy);
// RestoreSnapshot streams an object back through them into `mbstream -x`,
// verifies it, prepares it and moves it into an empty datadir. Credentials go
// through a 0600 option file, never argv. Neither function is thread-safe;
// callers serialize snapshots with a lock.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "backup/backup_record.h"
#include "backup/binlog_info.h"
#include "backup/defaults_file.h"
#include "backup/pipeline.h"
#include "core/status.h"
#include "storage/object_store.h"
#include "sys/fs.h"
#include "sys/process.h"

namespace manage::backup {

struct SnapshotOptions {
  std::string name;                            // object name, usually BackupName(BACKUP_NAME, time)
  std::chrono::system_clock::time_point time;  // recorded as "dt"
  BackupCredentials credentials;
  // Private scratch directory (created 0700) for the option file and
  // mariabackup's --target-dir; both are removed afterwards.
  std::string work_dir;
  std::string node;     // recorded in the BackupRecord
  std::string store;    // recorded in the BackupRecord, e.g. "local"
  std::string service;  // recorded in the BackupRecord: SERVICE_NAME
  Encoding encoding;    // compression and encryption of what is stored
  // Told the raw bytes streamed so far, after each chunk (progress on a terminal).
  std::function<void(uint64_t raw_bytes)> on_progress;
  std::vector<std::string> extra_args;  // more mariabackup options, e.g. "--parallel=4"
  std::string mariabackup = "mariabackup";
  std::chrono::milliseconds timeout{std::chrono::hours(6)};
};

// Takes a hot backup into object `options.name` and returns its record. The
// object is committed only when mariabackup exits 0 and reported its binlog
// position; otherwise it is aborted and nothing becomes visible. Fails with
// mariabackup's exit and stderr tail, the store's error, or DeadlineExceeded.
Result<BackupRecord> TakeSnapshot(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                  storage::ObjectStore& store, const SnapshotOptions& options);

struct RestoreOptions {
  std::string datadir;  // absolute; must be absent or empty (lost+found allowed)
  // Where the backup is unpacked and prepared. Must be on the datadir's
  // filesystem, since files are renamed into place. Empty: "<datadir>/.restore".
  std::string work_dir;
  std::string mysql_user;          // owner of the restored files; empty: leave as unpacked
  const BackupKey* key = nullptr;  // for encrypted snapshots; borrowed
  // Told the stored bytes read so far, after each chunk.
  std::function<void(uint64_t stored_bytes)> on_progress;
  std::string mbstream = "mbstream";
  std::string mariabackup = "mariabackup";
  std::chrono::milliseconds timeout{std::chrono::hours(6)};
};

// Restores `record` into options.datadir and returns the binlog position the
// data corresponds to (the GTID to replicate from). FailedPrecondition when
// the datadir holds anything or the snapshot is encrypted with a key we lack
// (checked before anything is read or written); Internal "checksum mismatch:
// expected X got Y" when the object does not match the record, or when a frame
// of an encrypted snapshot does not verify; the failing tool's exit and
// stderr otherwise. On any failure the datadir is left as it was.
Result<BinlogPosition> RestoreSnapshot(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                       storage::ObjectStore& store, const BackupRecord& record,
                                       const RestoreOptions& options);

}  // namespace manage::backup
