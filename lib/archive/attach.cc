#include "archive/attach.h"

namespace manage::archive {
namespace {

// Every GTID at a link boundary of the chain, oldest first, up to `head`.
std::vector<MariaDbGtid> Boundaries(const Chain& chain, const MariaDbGtid& head) {
  std::vector<MariaDbGtid> out;
  for (const ChainPart& p : chain.parts) {
    if (p.start.seqno <= head.seqno) out.push_back(p.start);
    for (const ChainLink& l : p.links) {
      if (l.End().seqno <= head.seqno) out.push_back(l.End());
    }
  }
  return out;
}

// The largest index whose probe does not say kLack (the server's history and
// the chain share a prefix), or -1. Purged counts as shared: it is older than
// anything the server can tell about.
Result<int> LastShared(const std::vector<MariaDbGtid>& gtids, const AttachSource& source) {
  int lo = 0, hi = static_cast<int>(gtids.size()) - 1, found = -1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    auto have = source.probe(gtids[static_cast<size_t>(mid)]);
    if (!have.ok()) return have.status();
    if (*have != Have::kLack) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

Result<AttachPoint> FromOldest(const AttachSource& source, std::optional<MariaDbGtid> gap_after,
                               bool forked) {
  auto oldest = source.oldest();
  if (!oldest.ok()) return oldest.status();
  return AttachPoint{*oldest, gap_after, forked};
}

// The newest chain GTID the server has, when it lacks `head`.
Result<AttachPoint> ForkPoint(const MariaDbGtid& head, const Chain& chain,
                              const AttachSource& source) {
  std::vector<MariaDbGtid> bounds = Boundaries(chain, head);
  auto shared = LastShared(bounds, source);
  if (!shared.ok()) return shared.status();
  if (*shared < 0) return FromOldest(source, head, true);
  const MariaDbGtid at = bounds[static_cast<size_t>(*shared)];
  auto have = source.probe(at);
  if (!have.ok()) return have.status();
  if (*have == Have::kPurged) return FromOldest(source, at, true);
  // The histories part inside the link that follows `at`, if any.
  for (const ChainPart& p : chain.parts) {
    for (const ChainLink& l : p.links) {
      if (!(l.segment.prev == at)) continue;
      auto gtids = source.link_gtids(l);
      if (!gtids.ok()) return gtids.status();
      auto inside = LastShared(*gtids, source);
      if (!inside.ok()) return inside.status();
      if (*inside >= 0) return AttachPoint{(*gtids)[static_cast<size_t>(*inside)], {}, true};
      return AttachPoint{at, {}, true};
    }
  }
  return AttachPoint{at, {}, true};
}

}  // namespace

Result<AttachPoint> FindAttachPoint(const std::optional<MariaDbGtid>& head, const Chain& chain,
                                    const AttachSource& source) {
  if (!head) return FromOldest(source, std::nullopt, false);
  auto have = source.probe(*head);
  if (!have.ok()) return have.status();
  switch (*have) {
    case Have::kHave:
      return AttachPoint{*head, {}, false};
    case Have::kPurged:
      return FromOldest(source, *head, false);
    case Have::kLack:
      break;
  }
  return ForkPoint(*head, chain, source);
}

}  // namespace manage::archive
