#include <catch2/catch.hpp>

#include "mysql/gtid.h"

namespace manage::mysql {
namespace {

// Two source UUIDs in sorted order.
#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "8a94f357-aab4-11df-86ab-c80aa9429562"

MySqlGtidSet Set(const char* text) {
  Result<MySqlGtidSet> s = MySqlGtidSet::Parse(text);
  INFO(text << ": " << s.status().ToString());
  REQUIRE(s.ok());
  return *s;
}

TEST_CASE("MySQL GTID sets parse to canonical form") {
  struct Case {
    const char* text;
    const char* canonical;
    uint64_t count;
  };
  const Case cases[] = {
      {"", "", 0},
      {" \n ", "", 0},
      {U1 ":1-5", U1 ":1-5", 5},
      {U1 ":5", U1 ":5", 1},
      {U1 ":5-5", U1 ":5", 1},
      {U1 ":1-5:7-9", U1 ":1-5:7-9", 8},
      {U1 ":7-9:1-5", U1 ":1-5:7-9", 8},
      {U1 ":1-5:6-9", U1 ":1-9", 9},
      {U1 ":1-5:3-7", U1 ":1-7", 7},
      {U1 ":1-5:2-3", U1 ":1-5", 5},
      {U1 ":1-5," U1 ":6-8", U1 ":1-8", 8},
      {U2 ":1-3," U1 ":1-5", U1 ":1-5," U2 ":1-3", 8},
      // gtid_executed as MySQL prints it.
      {U1 ":1-5,\n" U2 ":1-3\n", U1 ":1-5," U2 ":1-3", 8},
      {"  " U1 " : 1 - 5 , " U2 ":1-3", U1 ":1-5," U2 ":1-3", 8},
      {"3E11FA47-71CA-11E1-9E33-C80AA9429562:1-2", U1 ":1-2", 2},
      // Tags (8.3+): untagged intervals first, then tags in order.
      {U1 ":1-3:tb:1-2:ta:5", U1 ":1-3:ta:5:tb:1-2", 6},
      {U1 ":tb:1-2:ta:5:1-3", U1 ":ta:1-3:5:tb:1-2", 6},
      {U1 ":TAG_1:1-2", U1 ":tag_1:1-2", 2},
      {U1 ":_x:1", U1 ":_x:1", 1},
      {U1 ":1-9223372036854775806", U1 ":1-9223372036854775806", 9223372036854775806ULL},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    MySqlGtidSet s = Set(c.text);
    CHECK(s.ToString() == c.canonical);
    CHECK(s.Count() == c.count);
    CHECK(s.empty() == (c.count == 0));
    CHECK(Set(s.ToString().c_str()) == s);
  }
}

TEST_CASE("Malformed MySQL GTID sets are InvalidArgument") {
  for (const char* text : {
           U1,
           U1 ":",
           U1 ":0",
           U1 ":0-5",
           U1 ":5-3",
           U1 ":1-",
           U1 ":-3",
           U1 ":1-2-3",
           U1 ":a-3",
           U1 ":1-9223372036854775807",
           U1 ":1-99999999999999999999",
           U1 ":1-5,",
           "," U1 ":1-5",
           U1 ":1-5,,",
           U1 ":tag",
           U1 ":t1:t2:1",
           U1 ":1-5:tag",
           U1 ":9tag:1",
           U1 ":bad-tag:1",
           U1 ":abcdefghijklmnopqrstuvwxyz0123456:1",
           "3e11fa47-71ca-11e1-9e33-c80aa942956:1-5",
           "3e11fa4771ca11e19e33c80aa9429562:1-5",
           "3e11fa47-71ca-11e1-9e33-c80aa942956g:1-5",
           "0-1-3",
           "1 2",
       }) {
    INFO(text);
    Result<MySqlGtidSet> s = MySqlGtidSet::Parse(text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("MySQL GTID set algebra") {
  struct Case {
    const char* a;
    const char* b;
    GtidOrder order;
    const char* a_minus_b;
    const char* a_union_b;
  };
  const Case cases[] = {
      {"", "", GtidOrder::kEqual, "", ""},
      {"", U1 ":1-5", GtidOrder::kBehind, "", U1 ":1-5"},
      {U1 ":1-5", "", GtidOrder::kAhead, U1 ":1-5", U1 ":1-5"},
      {U1 ":1-5", U1 ":1-5", GtidOrder::kEqual, "", U1 ":1-5"},
      {U1 ":1-3", U1 ":1-5", GtidOrder::kBehind, "", U1 ":1-5"},
      {U1 ":1-7", U1 ":1-5", GtidOrder::kAhead, U1 ":6-7", U1 ":1-7"},
      {U1 ":1-10", U1 ":3-4:7", GtidOrder::kAhead, U1 ":1-2:5-6:8-10", U1 ":1-10"},
      {U1 ":1-5:7-9", U1 ":1-9", GtidOrder::kBehind, "", U1 ":1-9"},
      {U1 ":1-9", U1 ":1-5:7-9", GtidOrder::kAhead, U1 ":6", U1 ":1-9"},
      {U1 ":4-6", U1 ":1-2:8-9", GtidOrder::kDiverged, U1 ":4-6", U1 ":1-2:4-6:8-9"},
      {U1 ":1-5," U2 ":1", U1 ":1-5", GtidOrder::kAhead, U2 ":1", U1 ":1-5," U2 ":1"},
      // An errant transaction on a replica: a has U2:1 that b lacks, b is ahead on U1.
      {U1 ":1-5," U2 ":1", U1 ":1-8", GtidOrder::kDiverged, U2 ":1", U1 ":1-8," U2 ":1"},
      {U1 ":1-5", U2 ":1-5", GtidOrder::kDiverged, U1 ":1-5", U1 ":1-5," U2 ":1-5"},
      {U1 ":1-5:t:1", U1 ":1-5", GtidOrder::kAhead, U1 ":t:1", U1 ":1-5:t:1"},
      {U1 ":t:1-3", U1 ":u:1-3", GtidOrder::kDiverged, U1 ":t:1-3", U1 ":t:1-3:u:1-3"},
      {U1 ":2:4:6", U1 ":1-3", GtidOrder::kDiverged, U1 ":4:6", U1 ":1-4:6"},
  };
  for (const Case& c : cases) {
    INFO(c.a << " vs " << c.b);
    MySqlGtidSet a = Set(c.a);
    MySqlGtidSet b = Set(c.b);
    CHECK(Compare(a, b) == c.order);
    bool subset = c.order == GtidOrder::kEqual || c.order == GtidOrder::kBehind;
    CHECK(a.IsSubsetOf(b) == subset);
    CHECK(a.Difference(b).ToString() == c.a_minus_b);
    CHECK(a.Union(b).ToString() == c.a_union_b);
    CHECK(b.Union(a) == a.Union(b));
    CHECK(a.Difference(b).Count() + b.Count() == a.Union(b).Count());
  }
}

TEST_CASE("Count saturates instead of overflowing") {
  MySqlGtidSet s = Set(U1 ":1-9223372036854775806," U2 ":1-9223372036854775806:t:1-5");
  CHECK(s.Count() == UINT64_MAX);
}

TEST_CASE("Text GTID helpers accept MySQL sets") {
  CHECK(*CanonicalGtid(Flavor::kMySql, U2 ":1-3,\n" U1 ":1-5") == U1 ":1-5," U2 ":1-3");
  CHECK(*GtidIsSubset(Flavor::kMySql, U1 ":1-3", U1 ":1-5"));
  CHECK(*GtidErrant(Flavor::kMySql, U1 ":1-5," U2 ":1", U1 ":1-9") == U2 ":1");
  CHECK(*CompareGtid(Flavor::kMySql, U1 ":1-5", U1 ":1-5\n") == GtidOrder::kEqual);
  CHECK(CanonicalGtid(Flavor::kMySql, "0-1-5").status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace manage::mysql
