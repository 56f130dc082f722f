// Point-in-time restore: a snapshot, then the archived transactions after it
// replayed up to (not including) a target time or GTID, into an empty datadir.
//
//  1. The chain is built from the archive's names; the link holding the cut
//     is found (archive/plan.h) and read first, which fixes the exact first
//     transaction not to replay.
//  2. The newest snapshot whose GTID lies on the same stretch of the chain
//     before the cut is chosen; every segment from it to the cut is read,
//     decoded and verified (SHA-256 of the content, every event's CRC-32,
//     the GTIDs, count and times its name gives, the snapshot's GTID found
//     where the chain says it is) and written, trimmed to the transactions to
//     replay, into the work directory. A snapshot whose GTID is not on the
//     chain (taken by a primary whose last writes were lost in a failover)
//     is passed over for the next older one.
//  3. Only then is the snapshot restored (backup/snapshot.h: verified before
//     it is moved into the datadir).
//  4. A temporary mariadbd on the datadir (socket only, no networking, binary
//     log on) starts with its GTID state set to the snapshot's, the staged
//     files are replayed by `mariadb-binlog | mariadb` (the original GTIDs
//     are kept, gtid_strict_mode refuses anything out of order), and it shuts
//     down. The datadir's binlog then ends at the last replayed GTID, so a
//     node started on it continues that history.
// Any failure leaves the datadir empty and removes the work directory. Not
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/plan.h"
#include "backup/backup_record.h"
#include "backup/crypt.h"
#include "storage/object_store.h"
#include "sys/clock.h"
#include "sys/fs.h"
#include "sys/process.h"

namespace manage::archive {

struct PointInTimeOptions {
  Target target;
  std::string datadir;  // absolute; absent or empty (lost+found allowed)
  // Staged segments and the temporary server's files; created, then removed.
  std::string work_dir;
  std::string mysql_user;  // owner of the files and the server's user; empty: ours
  const backup::BackupKey* key = nullptr;
  uint32_t server_id = 1;  // the temporary server's (it writes no GTID of its own)
  int64_t buffer_pool_mb = 128;
  sys::Clock* clock = nullptr;                           // REQUIRED: waits for the server
  std::function<void(const std::string& step)> on_step;  // progress, for an operator
  std::string mariadbd = "mariadbd";
  std::string mariadb = "mariadb";
  std::string mariadb_binlog = "mariadb-binlog";
  std::chrono::milliseconds timeout{std::chrono::hours(6)};
};

struct PointInTimeResult {
  std::string snapshot_id;
  std::string snapshot_gtid;
  std::string position;        // gtid_binlog_pos of the result
  std::string stopped_before;  // the first GTID not replayed ("" when the target was a time
                               // after the last replayed transaction of the link)
  uint64_t transactions = 0, events = 0;  // replayed
  uint64_t segments = 0;                  // read
  std::chrono::milliseconds replay_time{0};
};

// Restores `target` from `snapshots` (records of one cluster, with their
// objects in `snapshot_store`) and the binlog archive in `archive`.
// NotFound when the target is outside the archive or no snapshot precedes
// it on its stretch (the message names the windows); FailedPrecondition for
// a datadir that is not empty or a key that is missing; Internal "segment
// ... is corrupt" for an archive object that does not verify (nothing was
// written to the datadir then).
Result<PointInTimeResult> RestoreToPoint(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                         storage::ObjectStore& snapshot_store,
                                         storage::ObjectStore& archive,
                                         const std::vector<backup::BackupRecord>& snapshots,
                                         const PointInTimeOptions& options);

// The snapshots of `records` as chain points (a snapshot's GTID in `domain`;
// one without a GTID is at the beginning of the history).
std::vector<SnapshotPoint> SnapshotPoints(const std::vector<backup::BackupRecord>& records,
                                          uint32_t domain);

// A restore target from an operator's text: a GTID "D-S-N", or a time
// "YYYY-MM-DD[T ]HH:MM:SS" in UTC, with an optional "Z" or "+HH:MM"/"-HH:MM"
// offset, or "@<Unix seconds>". InvalidArgument otherwise.
Result<Target> ParseTarget(std::string_view text, bool by_gtid);

}  // namespace manage::archive
