#include "archive/chain.h"

#include <algorithm>
#include <map>

namespace manage::archive {
namespace {

// A contiguous run of links, oldest first.
struct Piece {
  MariaDbGtid start, end;
  std::vector<ChainLink> links;
  uint64_t epoch = 0;
};

bool Before(const MariaDbGtid& a, const MariaDbGtid& b) { return a.seqno < b.seqno; }

// The contiguous runs one epoch's segments form, oldest first. Segments that
// a longer one covers, and markers, go to `unused`.
std::vector<Piece> EpochRuns(std::vector<SegmentInfo> segs, std::vector<SegmentInfo>* unused) {
  std::vector<SegmentInfo> markers, data;
  for (SegmentInfo& s : segs) (s.kind == SegmentKind::kMarker ? markers : data).push_back(s);
  std::sort(data.begin(), data.end(), [](const SegmentInfo& a, const SegmentInfo& b) {
    if (a.prev.seqno != b.prev.seqno) return a.prev.seqno < b.prev.seqno;
    return a.last.seqno > b.last.seqno;
  });
  std::vector<Piece> runs;
  std::vector<bool> used(data.size(), false);
  for (size_t i = 0; i < data.size(); ++i) {
    if (used[i]) continue;
    Piece run{data[i].prev, data[i].last, {{data[i], std::nullopt}}, data[i].epoch};
    used[i] = true;
    for (bool extended = true; extended;) {
      extended = false;
      size_t best = data.size();
      for (size_t j = 0; j < data.size(); ++j) {
        if (!used[j] && data[j].prev == run.end &&
            (best == data.size() || data[j].last.seqno > data[best].last.seqno)) {
          best = j;
        }
      }
      if (best != data.size()) {
        run.links.push_back({data[best], std::nullopt});
        run.end = data[best].last;
        used[best] = true;
        extended = true;
      }
    }
    // Whatever lies inside this run is covered by it.
    for (size_t j = 0; j < data.size(); ++j) {
      if (!used[j] && data[j].prev.seqno >= run.start.seqno &&
          data[j].last.seqno <= run.end.seqno) {
        used[j] = true;
        unused->push_back(data[j]);
      }
    }
    runs.push_back(std::move(run));
  }
  // An epoch that archived nothing yet still says where the history goes on.
  if (runs.empty() && !markers.empty()) {
    const SegmentInfo& m = *std::min_element(
        markers.begin(), markers.end(),
        [](const SegmentInfo& a, const SegmentInfo& b) { return a.prev.seqno < b.prev.seqno; });
    runs.push_back({m.prev, m.prev, {}, m.epoch});
  }
  for (SegmentInfo& m : markers) unused->push_back(std::move(m));
  return runs;
}

// The part of `run` that precedes `boundary` (a newer epoch's attach point),
// or nullopt when all of it lies at or after it.
std::optional<Piece> PrefixBefore(const Piece& run, const MariaDbGtid& boundary,
                                  std::vector<SegmentInfo>* unused) {
  if (!Before(run.start, boundary) && !(run.links.empty() && run.start == boundary)) {
    for (const ChainLink& l : run.links) unused->push_back(l.segment);
    return std::nullopt;
  }
  Piece out{run.start, run.start, {}, run.epoch};
  bool done = false;
  for (const ChainLink& l : run.links) {
    if (done) {
      unused->push_back(l.segment);
      continue;
    }
    const SegmentInfo& s = l.segment;
    if (s.last.seqno < boundary.seqno || s.last == boundary) {
      out.links.push_back(l);
      out.end = s.last;
      done = s.last == boundary;
    } else if (s.first.seqno <= boundary.seqno) {
      out.links.push_back({s, boundary});
      out.end = boundary;
      done = true;
    } else {
      unused->push_back(s);  // starts after the boundary
      done = true;
    }
  }
  return out;
}

ArchiveGap GapBetween(const Piece& older, const Piece& newer) {
  ArchiveGap g{older.end, newer.start, 0, 0};
  if (!older.links.empty()) g.time_after = older.links.back().segment.time_max;
  if (!newer.links.empty()) g.time_before = newer.links.front().segment.time_min;
  return g;
}

}  // namespace

uint32_t ChainPart::TimeMin() const {
  uint32_t t = 0;
  for (const ChainLink& l : links) {
    if (t == 0 || l.segment.time_min < t) t = l.segment.time_min;
  }
  return t;
}

uint32_t ChainPart::TimeMax() const {
  uint32_t t = 0;
  for (const ChainLink& l : links) t = std::max(t, l.segment.time_max);
  return t;
}

Chain BuildChain(std::vector<SegmentInfo> segments) {
  Chain chain;
  std::map<uint64_t, std::vector<SegmentInfo>, std::greater<>> by_epoch;
  for (SegmentInfo& s : segments) by_epoch[s.epoch].push_back(std::move(s));
  std::vector<Piece> newest_first;
  std::optional<MariaDbGtid> boundary;
  for (auto& [epoch, segs] : by_epoch) {
    chain.epoch = std::max(chain.epoch, epoch);
    std::vector<Piece> runs = EpochRuns(std::move(segs), &chain.unused);
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
      if (!boundary) {
        newest_first.push_back(std::move(*run));
        continue;
      }
      if (IsBeginning(*boundary)) {
        for (const ChainLink& l : run->links) chain.unused.push_back(l.segment);
        continue;
      }
      std::optional<Piece> prefix = PrefixBefore(*run, *boundary, &chain.unused);
      if (!prefix) continue;
      newest_first.push_back(std::move(*prefix));
      boundary = newest_first.back().start;
    }
    if (!newest_first.empty()) boundary = newest_first.back().start;
  }
  // Oldest first, joined where they meet, a gap where they do not.
  for (auto p = newest_first.rbegin(); p != newest_first.rend(); ++p) {
    if (!chain.parts.empty() && chain.parts.back().end == p->start) {
      ChainPart& last = chain.parts.back();
      last.links.insert(last.links.end(), p->links.begin(), p->links.end());
      last.end = p->end;
      continue;
    }
    if (!chain.parts.empty()) {
      const ChainPart& last = chain.parts.back();
      chain.gaps.push_back(GapBetween({last.start, last.end, last.links, 0}, *p));
    }
    chain.parts.push_back({p->start, p->end, std::move(p->links), p->epoch});
  }
  return chain;
}

std::vector<const ChainLink*> AllLinks(const Chain& chain) {
  std::vector<const ChainLink*> out;
  for (const ChainPart& p : chain.parts) {
    for (const ChainLink& l : p.links) out.push_back(&l);
  }
  return out;
}

}  // namespace manage::archive
