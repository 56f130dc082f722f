// Which archived segments make up the cluster's history, decided from their
// names alone (archive/segment.h). Pure and table-tested.
//
// Epochs. Each archiving term (a primary's archiver from its start until it
// stops, is demoted or dies) takes the next epoch number in Consul (a
// check-and-set guarded by PRIMARY_KEY) and first writes a marker at its
// attach point: the newest GTID of the archive that its own server has. Its
// segments then continue from there. A primary that lost the lock may still
// have written segments after the new primary's attach point: transactions
// the new primary never received (errant, a fork). So the newest epoch wins
// from its attach point on: its segments are taken whole, and the history
// before its attach point comes from older epochs, each truncated where the
// next newer one attached. Segments of an older epoch past that point are
// unused (superseded): never replayed, whatever their contents.
//
// Within an epoch, segments link by GTID (a segment's prev is the last of the
// one before it); a sealed segment covers the tails it was made of (they are
// unused); a fill links a gap's two ends. Where nothing links two parts of
// the history, the chain has a gap: no restore can reach a point inside it,
// and one after it needs a snapshot taken after it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "archive/segment.h"

namespace manage::archive {

struct ChainLink {
  SegmentInfo segment;
  // Replay this segment only up to and including this GTID: a newer epoch
  // attached there. nullopt: the whole segment.
  std::optional<MariaDbGtid> stop_after;
  MariaDbGtid End() const { return stop_after ? *stop_after : segment.last; }
};

// A stretch of history without holes: links[i+1] follows links[i].
struct ChainPart {
  MariaDbGtid start;  // the GTID just before its first transaction
  MariaDbGtid end;    // its last GTID (== start when it has no links)
  std::vector<ChainLink> links;
  // The epoch whose run begins the part: a fill of the gap before it
  // belongs to that epoch, so that it links to the run.
  uint64_t start_epoch = 0;
  uint32_t TimeMin() const;  // 0 without links
  uint32_t TimeMax() const;
};

struct ArchiveGap {
  MariaDbGtid after;   // the last GTID archived before it
  MariaDbGtid before;  // the GTID the history resumes after
  uint32_t time_after = 0;
  uint32_t time_before = 0;  // 0 when unknown
};

struct Chain {
  std::vector<ChainPart> parts;     // oldest first; a gap lies between each two
  std::vector<ArchiveGap> gaps;     // gaps[i] lies between parts[i] and parts[i+1]
  std::vector<SegmentInfo> unused;  // superseded, covered by a sealed one, or markers
  uint64_t epoch = 0;               // the newest epoch seen
  bool empty() const { return parts.empty(); }
  // The last GTID of the history (the newest epoch's attach point when it
  // has archived nothing yet). REQUIRES: !empty().
  MariaDbGtid Head() const { return parts.back().end; }
};

Chain BuildChain(std::vector<SegmentInfo> segments);

// The links of `chain` in order, all parts together.
std::vector<const ChainLink*> AllLinks(const Chain& chain);

}  // namespace manage::archive
