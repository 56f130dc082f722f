// Closing a gap in the archive (archive/chain.h) from a node that still has
// the missing transactions in its binlog: the attach point is found on that
// node as for a new epoch (archive/attach.h, against the history before the
// gap), then its binlog is read from there until the GTID the history resumes
// after (kept in a spool meanwhile: disk, not memory), and only then uploaded
// as fill segments (at most BINLOG_ARCHIVE_SEAL_MB each) of the epoch that
// follows the gap, so that they link to it. A node whose binlog does not
// reach back that far, or whose history does not lead to the GTID after the
// gap, cannot fill it and uploads nothing. A fill cut short after some of its
// segments were uploaded has closed part of the gap. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "archive/chain.h"
#include "archive/spool.h"
#include "backup/pipeline.h"
#include "core/log.h"
#include "mysql/binlog_stream.h"
#include "storage/object_store.h"

namespace manage::archive {

struct FillSource {
  std::string name;               // for messages
  mysql::BinlogDumpOptions dump;  // its server (start is set here)
  uint32_t probe_server_id = 0;
  // Its oldest binlog position (mysql::OldestBinlogState).
  std::function<Result<std::string>()> oldest_state;
};

struct FillEnv {
  storage::ObjectStore* store = nullptr;
  mysql::BinlogDumper* dumper = nullptr;
  Logger log = Logger(nullptr, LogLevel::kError, false);
  std::function<Result<std::unique_ptr<Spool>>()> new_spool;
  backup::Encoding encoding;
  const backup::BackupKey* key = nullptr;
  uint64_t segment_bytes = 64ull << 20;
};

// Fills chain.gaps[gap] from `source`; returns the transactions archived.
// NotFound or FailedPrecondition when this node cannot (it says why).
Result<uint64_t> FillGap(const Chain& chain, size_t gap, const FillSource& source,
                         const FillEnv& env);

}  // namespace manage::archive
