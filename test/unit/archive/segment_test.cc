#include "archive/segment.h"

#include <catch2/catch.hpp>

namespace manage::archive {
namespace {

SegmentInfo Tail() {
  SegmentInfo s;
  s.epoch = 7;
  s.kind = SegmentKind::kTail;
  s.prev = {0, 11, 99};
  s.first = {0, 12, 100};
  s.last = {0, 12, 250};
  s.time_min = 1764425000;
  s.time_max = 1764425009;
  s.transactions = 151;
  s.zstd = true;
  s.key_id = "0123456789abcdef";
  s.sha256 = std::string(64, 'c');
  return s;
}

TEST_CASE("a segment name carries every field and reads back the same") {
  auto name = SegmentName(Tail());
  REQUIRE(name.ok());
  CHECK(*name ==
        "0000000007_t_0-11-99_0-12-100_0-12-250_1764425000_1764425009_151_za0123456789abcdef_" +
            std::string(64, 'c'));
  auto back = ParseSegmentName(*name);
  REQUIRE(back.ok());
  CHECK(back->epoch == 7);
  CHECK(back->kind == SegmentKind::kTail);
  CHECK(back->prev == MariaDbGtid{0, 11, 99});
  CHECK(back->last == MariaDbGtid{0, 12, 250});
  CHECK(back->transactions == 151);
  CHECK(back->zstd);
  CHECK(back->key_id == "0123456789abcdef");
  CHECK(back->name == *name);
  // The largest values still fit an object name.
  SegmentInfo big = Tail();
  big.epoch = 9999999999;
  big.prev = big.first = big.last = {4294967295u, 4294967295u, 18446744073709551615ull};
  big.prev.seqno -= 2;
  big.first.seqno -= 1;
  big.time_min = big.time_max = 4294967295u;
  big.transactions = 1;
  CHECK(SegmentName(big).ok());
}

TEST_CASE("a marker has no transactions and its GTIDs are its attach point") {
  SegmentInfo m = MarkerSegment(3, {0, 0, 0});
  m.sha256 = std::string(64, 'e');
  auto name = SegmentName(m);
  REQUIRE(name.ok());
  auto back = ParseSegmentName(*name);
  REQUIRE(back.ok());
  CHECK(back->kind == SegmentKind::kMarker);
  CHECK(IsBeginning(back->prev));
}

TEST_CASE("names that are not segments are refused") {
  const std::string sha(64, 'a');
  const char* bad[] = {
      "mysql-backup-2026-11-29T04-00-00Z",
      "0000000001_t_0-1-1_0-1-2_0-1-3_1_2_3_n",      // fields missing
      "1_t_0-1-1_0-1-2_0-1-3_1_2_2_n_",              // epoch not 10 digits
      "0000000001_x_0-1-1_0-1-2_0-1-3_1_2_2_n_",     // kind
      "0000000001_t_0-1-1_0-1-2_0-1-3_1_2_2_q_",     // encoding
      "0000000001_t_0-1-1_0-1-2_0-1-3_1_2_2_za12_",  // short key id
      "0000000001_t_0-1-5_0-1-2_0-1-3_1_2_2_n_",     // first before prev
      "0000000001_t_0-1-1_0-1-3_0-1-2_1_2_2_n_",     // last before first
      "0000000001_t_0-1-1_0-1-2_0-1-3_5_2_2_n_",     // times reversed
      "0000000001_t_0-1-1_1-1-2_1-1-3_1_2_2_n_",     // two domains
      "0000000001_t_0-1-1_0-1-2_0-1-3_1_2_0_n_",     // a tail without transactions
      "0000000001_m_0-1-1_0-1-2_0-1-2_0_0_0_n_",     // a marker that moves
  };
  for (const char* b : bad) {
    const std::string name = std::string(b) + (std::string(b).back() == '_' ? sha : "");
    INFO(name);
    CHECK(ParseSegmentName(name).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("GTIDs read as domain-server-seqno, 0 allowed for the beginning") {
  CHECK(ParseGtid("0-0-0")->seqno == 0);
  CHECK(*ParseGtid("1-2-3") == MariaDbGtid{1, 2, 3});
  CHECK_FALSE(ParseGtid("1-2").ok());
  CHECK_FALSE(ParseGtid("1-2-x").ok());
  CHECK_FALSE(ParseGtid("1-99999999999-3").ok());
  CHECK(GtidText({1, 2, 3}) == "1-2-3");
}

}  // namespace
}  // namespace manage::archive
