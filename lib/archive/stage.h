// Staging one archived segment for a replay: it is read whole and verified
// (archive/segment_io.h, then its transactions against its name), and the
// transactions to replay are written to a local binlog file (the magic, the
// format description, their events), so that nothing reaches a server before
// every segment of a restore has been verified. Internal to the restore.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "archive/chain.h"
#include "archive/plan.h"
#include "backup/crypt.h"
#include "storage/object_store.h"

namespace manage::archive {

struct StageRule {
  // Leave out the transactions up to and including this GTID, which must be
  // in the segment (FailedPrecondition "... not in the archive's history"
  // otherwise).
  std::optional<MariaDbGtid> skip_through;
  // Leave out the first transaction that is this GTID or is at or after this
  // time, and everything after it.
  std::optional<Target> stop_before;
};

struct Staged {
  std::string path;
  uint64_t transactions = 0, events = 0;  // kept
  std::optional<MariaDbGtid> cut;         // the first transaction left out by stop_before
};

// Reads `link` from `store` and writes what `rule` keeps to `path`. Internal
// "segment ... is corrupt: ..." when it does not verify; the file is removed
// on any failure.
Result<Staged> StageLink(storage::ObjectStore& store, const ChainLink& link,
                         const backup::BackupKey* key, const StageRule& rule,
                         const std::string& path);

}  // namespace manage::archive
