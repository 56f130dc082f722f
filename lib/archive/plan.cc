#include "archive/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "backup/backup_record.h"

namespace manage::archive {
namespace {

// Whether `g` can be on part `p`'s history: in its range, and not another
// server's transaction at a position whose GTID the names give. (Inside a
// segment it is checked when the segment is read.)
bool InPart(const ChainPart& p, const MariaDbGtid& g) {
  if (g.domain_id != p.start.domain_id || g.seqno < p.start.seqno || g.seqno > p.end.seqno) {
    return false;
  }
  auto conflicts = [&g](const MariaDbGtid& known) {
    return known.seqno == g.seqno && !(known == g);
  };
  if (conflicts(p.start) || conflicts(p.end)) return false;
  for (const ChainLink& l : p.links) {
    if (conflicts(l.segment.first) || conflicts(l.End())) return false;
  }
  return true;
}

std::string DescribeParts(const Chain& chain) {
  if (chain.empty()) return "the archive is empty";
  std::string out = "the archive holds";
  for (size_t i = 0; i < chain.parts.size(); ++i) {
    const ChainPart& p = chain.parts[i];
    out += fmt::format("{} {} .. {}", i == 0 ? "" : ",", GtidText(p.start), GtidText(p.end));
    if (!p.links.empty()) {
      out += fmt::format(" ({} .. {})", UnixTimeText(p.TimeMin()), UnixTimeText(p.TimeMax()));
    }
  }
  return out;
}

}  // namespace

std::string UnixTimeText(int64_t t) {
  return backup::FormatBackupTime(std::chrono::system_clock::time_point(std::chrono::seconds(t)))
             .substr(0, 19) +
         "Z";
}

std::string Target::ToString() const { return by_gtid ? GtidText(gtid) : UnixTimeText(time); }

std::vector<SnapshotPoint> SnapshotsInPart(const Chain& chain, size_t part,
                                           const std::vector<SnapshotPoint>& snapshots) {
  std::vector<SnapshotPoint> out;
  for (const SnapshotPoint& s : snapshots) {
    if (InPart(chain.parts[part], s.gtid)) out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const SnapshotPoint& a, const SnapshotPoint& b) {
    return a.gtid.seqno != b.gtid.seqno ? a.gtid.seqno > b.gtid.seqno : a.time > b.time;
  });
  return out;
}

std::vector<RecoveryWindow> RecoveryWindows(const Chain& chain,
                                            const std::vector<SnapshotPoint>& snapshots) {
  std::vector<RecoveryWindow> out;
  for (size_t i = 0; i < chain.parts.size(); ++i) {
    std::vector<SnapshotPoint> in = SnapshotsInPart(chain, i, snapshots);
    if (in.empty()) continue;
    const ChainPart& p = chain.parts[i];
    out.push_back({i, in.back(), in.size(), p.end, p.TimeMax()});
  }
  return out;
}

Result<LinkRef> FindCutLink(const Chain& chain, const Target& target) {
  for (size_t p = 0; p < chain.parts.size(); ++p) {
    const ChainPart& part = chain.parts[p];
    for (size_t l = 0; l < part.links.size(); ++l) {
      const ChainLink& link = part.links[l];
      if (target.by_gtid) {
        if (target.gtid.domain_id == link.segment.first.domain_id &&
            target.gtid.seqno >= link.segment.first.seqno &&
            target.gtid.seqno <= link.End().seqno) {
          return LinkRef{p, l};
        }
      } else if (static_cast<int64_t>(link.segment.time_max) >= target.time) {
        return LinkRef{p, l};
      }
    }
  }
  return Status::NotFound(fmt::format(
      "{} is not in the binlog archive ({}){}", target.ToString(), DescribeParts(chain),
      target.by_gtid ? "" : ": a time must be no later than the newest archived event"));
}

std::optional<ReplayStart> StartAfter(const ChainPart& part, const MariaDbGtid& g) {
  if (g == part.start) {
    if (part.links.empty()) return std::nullopt;
    return ReplayStart{0, std::nullopt};
  }
  for (size_t l = 0; l < part.links.size(); ++l) {
    const ChainLink& link = part.links[l];
    if (link.End() == g) {
      if (l + 1 == part.links.size()) return std::nullopt;
      return ReplayStart{l + 1, std::nullopt};
    }
    if (g.seqno >= link.segment.first.seqno && g.seqno <= link.End().seqno) {
      return ReplayStart{l, g};
    }
  }
  // Between two links' sequence numbers (a jump): it cannot be on the chain,
  // the replay check will say so; start where it would be.
  for (size_t l = 0; l < part.links.size(); ++l) {
    if (part.links[l].segment.first.seqno > g.seqno) return ReplayStart{l, g};
  }
  return std::nullopt;
}

std::vector<std::string> SegmentsToDelete(const Chain& chain,
                                          const std::vector<SnapshotPoint>& kept) {
  // The oldest kept snapshot that lies on the chain, and its part.
  std::optional<std::pair<size_t, MariaDbGtid>> oldest;
  for (size_t p = 0; p < chain.parts.size() && !oldest; ++p) {
    std::vector<SnapshotPoint> in = SnapshotsInPart(chain, p, kept);
    if (!in.empty()) oldest = {p, in.back().gtid};
  }
  if (!oldest) return {};
  const auto [part, g] = *oldest;
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const SegmentInfo& s) {
    if (seen.insert(s.name).second) out.push_back(s.name);
  };
  for (size_t p = 0; p <= part; ++p) {
    for (const ChainLink& l : chain.parts[p].links) {
      if (p < part || l.End().seqno <= g.seqno) add(l.segment);
    }
  }
  for (const SegmentInfo& s : chain.unused) {
    const bool marker = s.kind == SegmentKind::kMarker;
    if (marker ? s.epoch < chain.epoch && s.prev.seqno <= g.seqno : s.last.seqno <= g.seqno) {
      add(s);
    }
  }
  return out;
}

}  // namespace manage::archive
