#include "archive/chain.h"

#include <catch2/catch.hpp>

#include "unit/archive/segments.h"

namespace manage::archive {
namespace {

// The chain as text: parts "start..end[links]" joined by " | " (a gap), each
// link "epoch:kind:first-last", with "@S:N" when it stops after that GTID.
std::string Show(const Chain& c) {
  std::string out;
  for (size_t p = 0; p < c.parts.size(); ++p) {
    const ChainPart& part = c.parts[p];
    if (p > 0) out += " | ";
    out += GtidText(part.start) + ".." + GtidText(part.end) + "[";
    for (size_t i = 0; i < part.links.size(); ++i) {
      const ChainLink& l = part.links[i];
      if (i > 0) out += " ";
      out += std::to_string(l.segment.epoch) + ":" + static_cast<char>(l.segment.kind) + ":" +
             std::to_string(l.segment.first.seqno) + "-" + std::to_string(l.segment.last.seqno);
      if (l.stop_after) out += "@" + GtidText(*l.stop_after);
    }
    out += "]";
  }
  return out;
}

TEST_CASE("the chain is the newest epoch's history, older epochs up to where it attached") {
  struct Row {
    const char* what;
    std::vector<std::string> segments;
    std::string chain;
    size_t unused;
  };
  const Row rows[] = {
      {"one epoch of tails",
       {"1 m - - -", "1 t - 1:1 1:10", "1 t 1:10 1:11 1:20"},
       "0-0-0..0-1-20[1:t:1-10 1:t:11-20]",
       1},
      {"a seal covers its tails (also when their deletion was cut short)",
       {"1 m - - -", "1 t - 1:1 1:10", "1 t 1:10 1:11 1:20", "1 s - 1:1 1:20",
        "1 t 1:20 1:21 1:25"},
       "0-0-0..0-1-25[1:s:1-20 1:t:21-25]",
       3},
      {"a fork: the old primary archived 1:13 and 1:14, which the new one never had",
       {"1 t - 1:1 1:10", "1 t 1:10 1:11 1:14", "2 m 1:12 1:12 1:12", "2 t 1:12 2:13 2:20"},
       "0-0-0..0-2-20[1:t:1-10 1:t:11-14@0-1-12 2:t:13-20]",
       1},
      {"a demoted primary's unpublished tail after the attach point is superseded",
       {"1 t - 1:1 1:20", "1 t 1:20 1:21 1:25", "2 m 1:20 1:20 1:20", "2 t 1:20 2:21 2:30"},
       "0-0-0..0-2-30[1:t:1-20 2:t:21-30]",
       2},
      {"a new epoch that archived nothing yet cuts the old one where it attached",
       {"1 t - 1:1 1:10", "1 t 1:10 1:11 1:20", "2 m 1:15 1:15 1:15"},
       "0-0-0..0-1-15[1:t:1-10 1:t:11-20@0-1-15]",
       1},
      {"a gap: the new primary's binlog begins after the archive's head",
       {"1 t - 1:1 1:20", "2 m 2:30 2:30 2:30", "2 t 2:30 2:31 2:40"},
       "0-0-0..0-1-20[1:t:1-20] | 0-2-30..0-2-40[2:t:31-40]",
       1},
      {"a fill closes it",
       {"1 t - 1:1 1:20", "2 m 2:30 2:30 2:30", "2 t 2:30 2:31 2:40", "2 f 1:20 2:21 2:30"},
       "0-0-0..0-2-40[1:t:1-20 2:f:21-30 2:t:31-40]",
       1},
      {"a fill cut short narrows it",
       {"1 t - 1:1 1:20", "2 m 2:30 2:30 2:30", "2 t 2:30 2:31 2:40", "2 f 1:20 2:21 2:25"},
       "0-0-0..0-2-25[1:t:1-20 2:f:21-25] | 0-2-30..0-2-40[2:t:31-40]",
       1},
      {"a fill from the fork point when the old head was errant",
       {"1 t - 1:1 1:20", "2 m 2:30 2:30 2:30", "2 t 2:30 2:31 2:40", "2 f 1:18 2:19 2:30"},
       "0-0-0..0-2-40[1:t:1-20@0-1-18 2:f:19-30 2:t:31-40]",
       1},
      {"three epochs, each cut where the next attached",
       {"1 t - 1:1 1:10", "2 m 1:10 1:10 1:10", "2 t 1:10 2:11 2:20", "2 t 2:20 2:21 2:22",
        "3 m 2:15 2:15 2:15", "3 t 2:15 3:16 3:30"},
       "0-0-0..0-3-30[1:t:1-10 2:t:11-20@0-2-15 3:t:16-30]",
       3},
      {"an older epoch entirely after the newer one's attach point is unused",
       {"1 t - 1:1 1:10", "2 t 1:12 2:13 2:14", "3 m 1:10 1:10 1:10", "3 t 1:10 3:11 3:12"},
       "0-0-0..0-3-12[1:t:1-10 3:t:11-12]",
       2},
      {"nothing", {}, "", 0},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    Chain c = BuildChain(Segs(r.segments));
    CHECK(Show(c) == r.chain);
    CHECK(c.unused.size() == r.unused);
    CHECK(c.gaps.size() + (c.parts.empty() ? 0 : 1) == c.parts.size());
  }
}

TEST_CASE("a gap knows both ends and their times") {
  Chain c = BuildChain(
      Segs({"1 t - 1:1 1:20 100 120", "2 m 2:30 2:30 2:30", "2 t 2:30 2:31 2:40 150 160"}));
  REQUIRE(c.gaps.size() == 1);
  CHECK(c.gaps[0].after == G("1:20"));
  CHECK(c.gaps[0].before == G("2:30"));
  CHECK(c.gaps[0].time_after == 120);
  CHECK(c.gaps[0].time_before == 150);
  CHECK(c.parts[1].start_epoch == 2);
  CHECK(c.Head() == G("2:40"));
  CHECK(c.epoch == 2);
}

TEST_CASE("a hole inside one epoch is a gap too") {
  Chain c = BuildChain(Segs({"1 t - 1:1 1:10", "1 t 1:20 1:21 1:30"}));
  CHECK(Show(c) == "0-0-0..0-1-10[1:t:1-10] | 0-1-20..0-1-30[1:t:21-30]");
}

}  // namespace
}  // namespace manage::archive
