// What the archiver keeps in Consul, as JSON under BINLOG_ARCHIVE_KEY:
//   <key>        the current epoch: its number, the node and PRIMARY_KEY
//                session that took it, and its attach point (gtid). Written
//                once per epoch, by check-and-set in a transaction that also
//                checks that the session holds PRIMARY_KEY.
//   <key>/head   the newest published segment: its epoch, last GTID, time
//                and name. Written after every tail segment in a transaction
//                that checks PRIMARY_KEY's session and that <key> is still at
//                the index this epoch wrote (no newer epoch began).
// The store alone is enough to restore (archive/chain.h); these only tell the
// next archiver where the published archive ends. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::archive {

struct ArchiveState {
  uint64_t epoch = 0;
  std::string node;
  std::string session;  // <key> only
  std::string gtid;     // <key>: the attach point; <key>/head: the last archived GTID
  uint32_t time = 0;    // <key>/head: the newest event time archived
  std::string segment;  // <key>/head: the segment's name
};

std::string SerializeArchiveState(const ArchiveState& state);
// InvalidArgument when `json` is not such an object.
Result<ArchiveState> ParseArchiveState(std::string_view json);

inline std::string HeadKey(const std::string& archive_key) { return archive_key + "/head"; }

}  // namespace manage::archive
