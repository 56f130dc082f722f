// Decisions over a chain (archive/chain.h) and the snapshots in the store:
// what can be restored (recovery windows), where a restore to a time or a
// GTID stops and which snapshot it starts from, and which segments retention
// deletes. Pure and table-tested; they read names, never object contents.
//
// A point-in-time restore replays, on top of a snapshot whose GTID lies on
// the chain, every transaction after that GTID up to but not including the
// target: a GTID target excludes that transaction; a time target T excludes
// the first transaction, in binlog order, whose time is T or later, and
// everything after it (as mariadb-binlog --stop-datetime). Binlog times have
// one-second resolution.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "archive/chain.h"

namespace manage::archive {

// "2026-11-29T14:03:17Z".
std::string UnixTimeText(int64_t seconds);

struct SnapshotPoint {
  std::string id;
  MariaDbGtid gtid;  // the last transaction in it
  int64_t time = 0;  // when it was taken (Unix s), for messages
};

// The snapshots that start inside part `part` of the chain (their GTID lies
// between its start and end), newest first.
std::vector<SnapshotPoint> SnapshotsInPart(const Chain& chain, size_t part,
                                           const std::vector<SnapshotPoint>& snapshots);

struct RecoveryWindow {
  size_t part = 0;
  SnapshotPoint oldest;  // the oldest snapshot it can start from
  size_t snapshots = 0;  // how many start inside it
  MariaDbGtid to;        // the last archived GTID of the part
  uint32_t to_time = 0;  // the latest event time archived in it
};

// One window per part of the chain that holds a snapshot, oldest first: a
// restore can reach any point from its oldest snapshot to its end.
std::vector<RecoveryWindow> RecoveryWindows(const Chain& chain,
                                            const std::vector<SnapshotPoint>& snapshots);

struct Target {
  bool by_gtid = false;
  MariaDbGtid gtid;  // by_gtid: the first transaction not to replay
  int64_t time = 0;  // !by_gtid: replay what comes before the first transaction at or after it
  std::string ToString() const;
};

// The link (part, index) where the replay of a restore to `target` stops:
// the one holding the target GTID, or the first whose latest event time is
// at or after the target time (the cut may still turn out to lie further on,
// when that link's late events are past a stop_after). NotFound, naming the
// archive's windows, when the target lies outside every part or in a gap.
struct LinkRef {
  size_t part = 0;
  size_t link = 0;
};
Result<LinkRef> FindCutLink(const Chain& chain, const Target& target);

// Where a restore from snapshot `snapshot` starts replaying inside `part`:
// the first link to read and whether the snapshot's GTID lies inside it (its
// transactions up to that GTID are skipped, and the GTID must be found there,
// else the snapshot is not on this history). nullopt when the snapshot's GTID
// is the part's end (nothing after it to replay in this part).
struct ReplayStart {
  size_t link = 0;
  std::optional<MariaDbGtid> skip_through;  // set when the GTID is inside links[link]
};
std::optional<ReplayStart> StartAfter(const ChainPart& part, const MariaDbGtid& snapshot_gtid);

// Segments retention may delete once the snapshots in `kept` remain: the
// history before the oldest kept snapshot on the chain, and segments not on
// the chain that lie before it (superseded or covered ones, markers of older
// epochs). Nothing when no kept snapshot lies on the chain. Names, oldest first.
std::vector<std::string> SegmentsToDelete(const Chain& chain,
                                          const std::vector<SnapshotPoint>& kept);

}  // namespace manage::archive
