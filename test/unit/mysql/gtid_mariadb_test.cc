#include <catch2/catch.hpp>

#include "mysql/gtid.h"

namespace manage::mysql {
namespace {

MariaDbGtidPosition Pos(const char* text) {
  Result<MariaDbGtidPosition> p = MariaDbGtidPosition::Parse(text);
  INFO(text << ": " << p.status().ToString());
  REQUIRE(p.ok());
  return *p;
}

TEST_CASE("MariaDB positions parse to canonical form") {
  struct Case {
    const char* text;
    const char* canonical;
  };
  const Case cases[] = {
      {"", ""},
      {"   \n", ""},
      {"0-1-3", "0-1-3"},
      {" 0-1-3 \n", "0-1-3"},
      {"5-2-10,0-1-3", "0-1-3,5-2-10"},
      {"0-1-3,\n5-2-10", "0-1-3,5-2-10"},
      {"0 - 1 - 3", "0-1-3"},
      {"4294967295-4294967295-18446744073709551615", "4294967295-4294967295-18446744073709551615"},
      {"0-1-0", "0-1-0"},
      {"007-01-0100", "7-1-100"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(Pos(c.text).ToString() == c.canonical);
  }
}

TEST_CASE("Malformed MariaDB positions are InvalidArgument") {
  for (const char* text : {"0-1", "0-1-3-4", "0-1-", "-1-3", "a-1-3", "0-b-3", "0-1-c", "0-1-3,",
                           ",0-1-3", "0-1-3,,1-1-3", "0-1-3,0-2-5", "4294967296-1-3",
                           "0-4294967296-3", "0-1-18446744073709551616", "0-1-+3", "0-1-3 4",
                           "uuid:1-5", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"}) {
    INFO(text);
    Result<MariaDbGtidPosition> p = MariaDbGtidPosition::Parse(text);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("MariaDB positions compare per domain by seqno") {
  struct Case {
    const char* a;
    const char* b;
    GtidOrder order;
    bool a_in_b;
    const char* a_minus_b;
  };
  const Case cases[] = {
      {"", "", GtidOrder::kEqual, true, ""},
      {"", "0-1-5", GtidOrder::kBehind, true, ""},
      {"0-1-5", "", GtidOrder::kAhead, false, "0-1-5"},
      {"0-1-5", "0-1-5", GtidOrder::kEqual, true, ""},
      {"0-1-4", "0-1-5", GtidOrder::kBehind, true, ""},
      {"0-1-6", "0-1-5", GtidOrder::kAhead, false, "0-1-6"},
      // A new primary (server 2) continued domain 0: higher seqno includes lower.
      {"0-1-5", "0-2-9", GtidOrder::kBehind, true, ""},
      {"0-2-9", "0-1-5", GtidOrder::kAhead, false, "0-2-9"},
      // Same seqno, different server: two different transactions.
      {"0-1-5", "0-2-5", GtidOrder::kDiverged, false, "0-1-5"},
      {"0-2-5", "0-1-5", GtidOrder::kDiverged, false, "0-2-5"},
      {"0-1-5,1-1-3", "0-1-5,1-1-3", GtidOrder::kEqual, true, ""},
      {"0-1-5", "0-1-5,1-1-3", GtidOrder::kBehind, true, ""},
      {"0-1-5,1-1-3", "0-1-5", GtidOrder::kAhead, false, "1-1-3"},
      // Ahead in one domain, behind in another.
      {"0-1-6,1-1-2", "0-1-5,1-1-3", GtidOrder::kDiverged, false, "0-1-6"},
      {"0-1-5", "1-1-3", GtidOrder::kDiverged, false, "0-1-5"},
      {"0-1-5,1-1-3", "1-1-4,0-1-5", GtidOrder::kBehind, true, ""},
      {"0-1-5,1-1-3,2-3-1", "0-1-6,1-2-3", GtidOrder::kDiverged, false, "1-1-3,2-3-1"},
  };
  for (const Case& c : cases) {
    INFO(c.a << " vs " << c.b);
    MariaDbGtidPosition a = Pos(c.a);
    MariaDbGtidPosition b = Pos(c.b);
    CHECK(Compare(a, b) == c.order);
    CHECK(a.IsSubsetOf(b) == c.a_in_b);
    CHECK(a.Difference(b).ToString() == c.a_minus_b);
  }
}

TEST_CASE("Compare is antisymmetric for MariaDB positions") {
  const char* positions[] = {"", "0-1-5", "0-2-5", "0-1-6", "0-1-5,1-1-3", "1-1-3", "0-9-1"};
  for (const char* x : positions) {
    for (const char* y : positions) {
      INFO(x << " vs " << y);
      GtidOrder xy = Compare(Pos(x), Pos(y));
      GtidOrder yx = Compare(Pos(y), Pos(x));
      if (xy == GtidOrder::kAhead) CHECK(yx == GtidOrder::kBehind);
      if (xy == GtidOrder::kBehind) CHECK(yx == GtidOrder::kAhead);
      if (xy == GtidOrder::kEqual || xy == GtidOrder::kDiverged) CHECK(yx == xy);
    }
  }
}

TEST_CASE("Find returns the GTID of a domain") {
  MariaDbGtidPosition p = Pos("3-7-1,0-1-3");
  REQUIRE(p.Find(3) != nullptr);
  CHECK(*p.Find(3) == MariaDbGtid{3, 7, 1});
  CHECK(p.Find(1) == nullptr);
  REQUIRE(p.gtids().size() == 2);
  CHECK(p.gtids()[0].domain_id == 0);
}

TEST_CASE("Text GTID helpers dispatch on flavour") {
  CHECK(*CanonicalGtid(Flavor::kMariaDb, "1-1-1,\n0-1-2") == "0-1-2,1-1-1");
  CHECK(*GtidIsSubset(Flavor::kMariaDb, "0-1-2", "0-1-3"));
  CHECK_FALSE(*GtidIsSubset(Flavor::kMariaDb, "0-1-3", "0-2-3"));
  CHECK(*GtidErrant(Flavor::kMariaDb, "0-1-3,1-5-1", "0-1-3") == "1-5-1");
  CHECK(*CompareGtid(Flavor::kMariaDb, "0-1-3", "0-1-2") == GtidOrder::kAhead);
  CHECK(GtidIsSubset(Flavor::kMariaDb, "garbage", "0-1-3").status().code() ==
        Code::kInvalidArgument);
  CHECK(CompareGtid(Flavor::kMariaDb, "0-1-3", "0-1").status().code() == Code::kInvalidArgument);
  CHECK(std::string(GtidOrderName(GtidOrder::kDiverged)) == "diverged");
}

}  // namespace
}  // namespace manage::mysql
