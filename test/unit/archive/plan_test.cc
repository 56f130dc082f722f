#include "archive/plan.h"

#include <catch2/catch.hpp>

#include "unit/archive/segments.h"

namespace manage::archive {
namespace {

SnapshotPoint Snap(const std::string& id, const std::string& gtid, int64_t t = 0) {
  return {id, G(gtid), t};
}

// The archive of these tests: two parts around a gap (1:20 .. 2:30).
Chain Archive() {
  return BuildChain(
      Segs({"1 t - 1:1 1:10 100 109", "1 t 1:10 1:11 1:20 110 119", "2 m 2:30 2:30 2:30",
            "2 t 2:30 2:31 2:40 150 159", "2 t 2:40 2:41 2:50 160 169"}));
}

TEST_CASE("a window per part that holds a snapshot, from its oldest one") {
  // "errant" is another server's transaction where the chain has 0-1-10.
  const std::vector<SnapshotPoint> snaps = {Snap("a", "1:5", 105), Snap("b", "1:15", 115),
                                            Snap("c", "2:45", 165), Snap("old", "9:99", 1),
                                            Snap("errant", "9:10", 1)};
  auto w = RecoveryWindows(Archive(), snaps);
  REQUIRE(w.size() == 2);
  CHECK(w[0].oldest.id == "a");
  CHECK(w[0].snapshots == 2);
  CHECK(w[0].to == G("1:20"));
  CHECK(w[0].to_time == 119);
  CHECK(w[1].oldest.id == "c");
  CHECK(w[1].to == G("2:50"));
  // Without a snapshot inside it, a part is not recoverable.
  CHECK(RecoveryWindows(Archive(), {Snap("a", "1:5")}).size() == 1);
  // A snapshot at a part's very start counts (nothing archived before it).
  CHECK(RecoveryWindows(Archive(), {Snap("s", "2:30")}).size() == 1);
}

TEST_CASE("the link where a restore stops: the target GTID's, or the first at or after the time") {
  const Chain c = Archive();
  struct Row {
    Target target;
    bool found;
    size_t part, link;
  };
  const Row rows[] = {
      {{true, G("1:10"), 0}, true, 0, 0},  {{true, G("1:11"), 0}, true, 0, 1},
      {{true, G("2:35"), 0}, true, 1, 0},  {{true, G("2:25"), 0}, false, 0, 0},  // in the gap
      {{true, G("2:51"), 0}, false, 0, 0},                                       // after the head
      {{false, {}, 100}, true, 0, 0},      {{false, {}, 112}, true, 0, 1},
      {{false, {}, 130}, true, 1, 0},  // in the gap's time: the next part
      {{false, {}, 169}, true, 1, 1},      {{false, {}, 170}, false, 0, 0},
  };
  for (const Row& r : rows) {
    INFO(r.target.ToString());
    auto ref = FindCutLink(c, r.target);
    REQUIRE(ref.ok() == r.found);
    if (!r.found) {
      CHECK(ref.status().code() == Code::kNotFound);
      CHECK(ref.status().message().find("0-1-20") != std::string::npos);  // names the windows
      continue;
    }
    CHECK(ref->part == r.part);
    CHECK(ref->link == r.link);
  }
}

TEST_CASE("a replay starts right after the snapshot's GTID") {
  const Chain chain = Archive();
  const ChainPart& p = chain.parts[0];
  CHECK(StartAfter(p, G("-"))->link == 0);
  CHECK_FALSE(StartAfter(p, G("-"))->skip_through.has_value());
  CHECK(StartAfter(p, G("1:10"))->link == 1);  // at a boundary: nothing to skip
  CHECK_FALSE(StartAfter(p, G("1:10"))->skip_through.has_value());
  CHECK(StartAfter(p, G("1:15"))->link == 1);
  CHECK(*StartAfter(p, G("1:15"))->skip_through == G("1:15"));
  CHECK_FALSE(StartAfter(p, G("1:20")).has_value());  // the part's end
}

TEST_CASE("retention keeps what the oldest kept snapshot needs") {
  Chain c = BuildChain(Segs({"1 m - - -", "1 t - 1:1 1:10", "1 t 1:10 1:11 1:20",
                             "1 t 1:20 1:21 1:30", "1 t 1:30 1:31 1:35", "2 m 1:32 1:32 1:32",
                             "2 t 1:32 2:33 2:40", "3 m 2:40 2:40 2:40"}));
  // The oldest kept snapshot at 1:15: the first segment goes, and the old
  // markers before it; what 1:15 needs stays.
  CHECK(SegmentsToDelete(c, {Snap("s", "1:15"), Snap("t", "2:35")}) ==
        std::vector<std::string>{"1 t - 1:1 1:10", "1 m - - -"});
  // At 1:33 (past the fork): the superseded 1:33-1:35 goes too.
  CHECK(SegmentsToDelete(c, {Snap("s", "2:34")}) ==
        std::vector<std::string>{"1 t - 1:1 1:10", "1 t 1:10 1:11 1:20", "1 t 1:20 1:21 1:30",
                                 "1 t 1:30 1:31 1:35", "2 m 1:32 1:32 1:32", "1 m - - -"});
  // No kept snapshot on the chain: nothing is deleted.
  CHECK(SegmentsToDelete(c, {Snap("x", "7:1")}).empty());
  CHECK(SegmentsToDelete(c, {}).empty());
}

TEST_CASE("targets are a GTID or a UTC time") {
  CHECK(Target{true, G("1:5"), 0}.ToString() == "0-1-5");
  CHECK(Target{false, {}, 1764425000}.ToString() == "2025-11-29T14:03:20Z");
  CHECK(UnixTimeText(0) == "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace manage::archive
