// Segment infos for chain and plan tests, written as "epoch kind prev first
// last [tmin tmax]" with GTIDs as S:N in domain 0 ("1:100" is 0-1-100, "-" the
// beginning), so that a table reads like the history it describes.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "archive/segment.h"

namespace manage::archive {

inline MariaDbGtid G(const std::string& s) {
  if (s == "-") return MariaDbGtid{0, 0, 0};
  size_t colon = s.find(':');
  return MariaDbGtid{0, static_cast<uint32_t>(std::stoul(s.substr(0, colon))),
                     std::stoull(s.substr(colon + 1))};
}

inline SegmentInfo Seg(const std::string& spec) {
  std::istringstream in(spec);
  uint64_t epoch = 0;
  char kind = 't';
  std::string prev, first, last;
  uint32_t tmin = 0, tmax = 0;
  in >> epoch >> kind >> prev >> first >> last;
  if (!(in >> tmin >> tmax)) tmin = tmax = 0;
  SegmentInfo s;
  s.epoch = epoch;
  s.kind = static_cast<SegmentKind>(kind);
  s.prev = G(prev);
  s.first = G(first);
  s.last = G(last);
  s.time_min = tmin;
  s.time_max = tmax;
  s.transactions = kind == 'm' ? 0 : s.last.seqno - s.first.seqno + 1;
  s.sha256 = std::string(64, 'a');
  s.name = spec;
  return s;
}

inline std::vector<SegmentInfo> Segs(const std::vector<std::string>& specs) {
  std::vector<SegmentInfo> out;
  for (const std::string& s : specs) out.push_back(Seg(s));
  return out;
}

}  // namespace manage::archive
