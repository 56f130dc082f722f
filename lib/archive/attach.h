// Where a server's binlog continues the archive: the attach point of a new
// epoch (the primary's archiver) or of a fill (a node that still has the
// events a gap lacks). Decided by asking the server to start a binlog dump
// after a GTID, as a replica would: the server itself says whether that GTID
// is in its history (kHave), is not (kLack: the archive holds transactions it
// never had, a fork), or lies before its oldest binlog (kPurged).
//
//   the archive's head is in the server's binlog      -> continue after it
//   the head lies before the server's oldest binlog   -> continue from the
//        oldest binlog; the events between are a gap (closed later from a
//        node that still has them)
//   the head is not in the server's history (a fork)  -> the newest archived
//        GTID the server has (a binary search over the chain, then inside
//        the segment where the histories part): transactions archived after
//        it are never replayed again (archive/chain.h)
//
// Pure logic over the callbacks; thread-safe if they are.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "archive/chain.h"

namespace manage::archive {

enum class Have { kHave, kLack, kPurged };

struct AttachSource {
  // Whether the server can start a dump right after `gtid` (IsBeginning:
  // from the beginning of its history).
  std::function<Result<Have>(const MariaDbGtid& gtid)> probe;
  // The position its oldest binlog file starts after (D-0-0 when that file
  // begins the history).
  std::function<Result<MariaDbGtid>()> oldest;
  // The GTIDs of `link`'s transactions up to its End(), in order (reads the
  // segment, verified).
  std::function<Result<std::vector<MariaDbGtid>>(const ChainLink& link)> link_gtids;
};

struct AttachPoint {
  MariaDbGtid gtid;  // the new run continues right after this GTID
  // Set when the history between it and `gtid` is missing from the server:
  // a gap in the archive, from gap_after (exclusive) to gtid.
  std::optional<MariaDbGtid> gap_after;
  // The archive held transactions after `gtid` that the server never had.
  bool forked = false;
};

// `head`: the newest published GTID (Consul), else the chain's head; nullopt
// for an empty archive: the run then starts at the server's oldest binlog.
Result<AttachPoint> FindAttachPoint(const std::optional<MariaDbGtid>& head, const Chain& chain,
                                    const AttachSource& source);

}  // namespace manage::archive
