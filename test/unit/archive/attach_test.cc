#include "archive/attach.h"

#include <catch2/catch.hpp>
#include <set>

#include "unit/archive/segments.h"

namespace manage::archive {
namespace {

// A server whose history is `history` (oldest first, "-" its beginning) and
// whose binlogs begin after history[oldest].
struct Server {
  Server(std::vector<MariaDbGtid> h, size_t o = 0) : history(std::move(h)), oldest(o) {}
  std::vector<MariaDbGtid> history;
  size_t oldest;
  std::vector<MariaDbGtid> probed;

  AttachSource Source(const Chain& chain, std::map<std::string, std::vector<MariaDbGtid>> inside) {
    AttachSource s;
    s.probe = [this](const MariaDbGtid& g) -> Result<Have> {
      probed.push_back(g);
      for (size_t i = 0; i < history.size(); ++i) {
        if (history[i] == g) return i < oldest ? Have::kPurged : Have::kHave;
      }
      if (g.seqno < history[oldest].seqno) return Have::kPurged;
      return Have::kLack;
    };
    s.oldest = [this]() -> Result<MariaDbGtid> { return history[oldest]; };
    s.link_gtids = [inside, &chain](const ChainLink& l) -> Result<std::vector<MariaDbGtid>> {
      (void)chain;
      return inside.at(l.segment.name);
    };
    return s;
  }
};

std::vector<MariaDbGtid> History(std::initializer_list<const char*> gtids) {
  std::vector<MariaDbGtid> out;
  for (const char* g : gtids) out.push_back(G(g));
  return out;
}

TEST_CASE("the archive continues right after its head when the server has it") {
  Chain c = BuildChain(Segs({"1 t - 1:1 1:3"}));
  Server s{History({"-", "1:1", "1:2", "1:3", "2:4"})};
  auto a = FindAttachPoint(G("1:3"), c, s.Source(c, {}));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("1:3"));
  CHECK_FALSE(a->gap_after.has_value());
  CHECK_FALSE(a->forked);
  CHECK(s.probed.size() == 1);
}

TEST_CASE("an empty archive starts at the server's oldest binlog") {
  Chain c;
  Server s{History({"-", "1:1", "1:2"}), 1};
  auto a = FindAttachPoint(std::nullopt, c, s.Source(c, {}));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("1:1"));
  CHECK(s.probed.empty());
}

TEST_CASE("a head older than the server's binlogs leaves a gap up to them") {
  Chain c = BuildChain(Segs({"1 t - 1:1 1:3"}));
  Server s{History({"-", "1:1", "1:2", "1:3", "2:4", "2:5", "2:6"}), 5};
  auto a = FindAttachPoint(G("1:3"), c, s.Source(c, {}));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("2:5"));
  CHECK(*a->gap_after == G("1:3"));
}

TEST_CASE("after a fork it continues from the newest archived GTID the server has") {
  // The old primary (1) archived 1:1..1:14; the new one (2) had 1:12 and went on.
  Chain c = BuildChain(Segs({"1 t - 1:1 1:5", "1 t 1:5 1:6 1:10", "1 t 1:10 1:11 1:14"}));
  Server s{History({"-", "1:1", "1:2", "1:3", "1:4", "1:5", "1:6", "1:7", "1:8", "1:9", "1:10",
                    "1:11", "1:12", "2:13", "2:14"})};
  std::map<std::string, std::vector<MariaDbGtid>> inside = {
      {"1 t 1:10 1:11 1:14", History({"1:11", "1:12", "1:13", "1:14"})}};
  auto a = FindAttachPoint(G("1:14"), c, s.Source(c, inside));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("1:12"));
  CHECK(a->forked);
  CHECK_FALSE(a->gap_after.has_value());
  // Binary searches, not a probe per transaction of the archive.
  CHECK(s.probed.size() <= 7);
}

TEST_CASE("a fork right at a segment boundary") {
  Chain c = BuildChain(Segs({"1 t - 1:1 1:5", "1 t 1:5 1:6 1:10"}));
  Server s{History({"-", "1:1", "1:2", "1:3", "1:4", "1:5", "2:6"})};
  std::map<std::string, std::vector<MariaDbGtid>> inside = {
      {"1 t 1:5 1:6 1:10", History({"1:6", "1:7", "1:8", "1:9", "1:10"})}};
  auto a = FindAttachPoint(G("1:10"), c, s.Source(c, inside));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("1:5"));
  CHECK(a->forked);
}

TEST_CASE("nothing in common but the beginning: the whole archive is superseded") {
  Chain c = BuildChain(Segs({"1 t - 1:1 1:5"}));
  Server s{History({"-", "3:1", "3:2"})};
  auto a = FindAttachPoint(
      G("1:5"), c, s.Source(c, {{"1 t - 1:1 1:5", History({"1:1", "1:2", "1:3", "1:4", "1:5"})}}));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("-"));
  CHECK(a->forked);
  CHECK_FALSE(a->gap_after.has_value());
}

TEST_CASE("nothing in common and binlogs purged: from the oldest binlog, with a gap") {
  Chain c = BuildChain(Segs({"1 m 1:3 1:3 1:3", "1 t 1:3 1:4 1:5"}));
  Server s{History({"-", "3:1", "3:2", "3:9"}), 2};
  auto a = FindAttachPoint(G("1:5"), c, s.Source(c, {}));
  REQUIRE(a.ok());
  CHECK(a->gtid == G("3:2"));
  CHECK(*a->gap_after == G("1:5"));
  CHECK(a->forked);
}

TEST_CASE("a failing probe is returned") {
  Chain c = BuildChain(Segs({"1 t - 1:1 1:5"}));
  AttachSource s;
  s.probe = [](const MariaDbGtid&) -> Result<Have> { return Status::Unavailable("down"); };
  CHECK(FindAttachPoint(G("1:5"), c, s).status().code() == Code::kUnavailable);
}

}  // namespace
}  // namespace manage::archive
