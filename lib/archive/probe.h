// The real callbacks of archive/attach.h: probing a server's binlog with a
// dump that starts after a GTID, reading a segment's GTIDs back from the
// store, and a server's oldest binlog position. Shared by the archiver (its
// own server) and the gap filler (another node's). Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "archive/attach.h"
#include "backup/crypt.h"
#include "mysql/binlog_stream.h"
#include "storage/object_store.h"

namespace manage::archive {

// Starts a non-blocking dump of `dump`'s server after `gtid` as `probe_id`
// and reads one event: kHave, kLack (FailedPrecondition), kPurged (NotFound).
Result<Have> ProbeDump(mysql::BinlogDumper& dumper, mysql::BinlogDumpOptions dump,
                       uint32_t probe_id, const MariaDbGtid& gtid);

// The GTIDs of `link`'s transactions up to its End(), read back and verified.
Result<std::vector<MariaDbGtid>> LinkGtids(storage::ObjectStore& store,
                                           const backup::BackupKey* key, const ChainLink& link);

// `state` (a position, as mysql::OldestBinlogState gives it) in `domain`;
// D-0-0 when it has none there.
Result<MariaDbGtid> PositionIn(const std::string& state, uint32_t domain);

}  // namespace manage::archive
