#include "cluster/errant.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

TEST_CASE("FindErrant: transactions a returning node has and the primary cannot have") {
  struct Row {
    const char* name;
    const char* replica;
    const char* primary;
    const char* state;
    const char* slave_pos;  // the primary's own replication position
    const char* want;
  };
  std::vector<Row> rows = {
      {"contained: behind on the same history", "0-1-10", "0-1-12", "0-1-12", "", ""},
      {"equal", "0-1-12", "0-1-12", "0-1-12", "", ""},
      {"ahead in the domain", "0-1-14", "0-1-12", "0-1-12", "", "0-1-13..14"},
      {"one past the primary", "0-1-13", "0-1-12", "0-1-12", "", "0-1-13"},
      {"old primary wrote past what the new primary got from it", "0-1-101", "0-2-105",
       "0-1-100,0-2-105", "0-1-100", "0-1-101"},
      {"old primary's last write did reach the new primary", "0-1-100", "0-2-105",
       "0-1-100,0-2-105", "0-1-100", ""},
      // A replica's own write (server 3), then the old primary's next one at
      // the same seqno on the new primary: MariaDB refuses it with 1236.
      {"a server the primary never saw, at a seqno the primary has", "0-3-101", "0-2-105",
       "0-1-100,0-2-105", "0-1-100", "0-3-101"},
      {"a server the primary never saw, ahead of it", "0-3-110", "0-2-105", "0-2-105", "",
       "0-3-106..110"},
      {"where the primary stopped replicating (restored, nothing of it binlogged)", "0-1-100",
       "0-2-103", "0-2-103", "0-1-100", ""},
      {"the primary replicated past it without binlogging", "0-1-99", "0-2-103", "0-2-103",
       "0-1-100", "0-1-99"},
      {"replica ahead, written by another server", "0-2-110", "0-2-105", "0-1-100,0-2-105", "",
       "0-2-106..110"},
      {"second domain errant only", "0-1-12,1-1-5", "0-1-12,1-2-9", "0-1-12,1-1-3,1-2-9", "",
       "1-1-4..5"},
      {"empty replica", "", "0-1-3", "0-1-3", "", ""},
      {"empty primary", "0-1-3", "", "", "", "0-1-1..3"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    auto e = FindErrant(r.replica, r.primary, r.state, r.slave_pos);
    REQUIRE(e.ok());
    CHECK(FormatErrant(*e) == r.want);
  }
  CHECK_FALSE(FindErrant("x", "0-1-1", "", "").ok());
  CHECK_FALSE(FindErrant("0-1-1", "0-1-1", "0-1-x", "").ok());
  CHECK_FALSE(FindErrant("0-1-1", "0-1-1", "", "y").ok());
}

TEST_CASE("SourceHas: FindErrant's rule for one GTID") {
  auto has = SourceHas("0-2-105", "0-1-100,0-2-105", "0-1-100");
  REQUIRE(has.ok());
  auto g = [](uint32_t s, uint64_t n) { return mysql::MariaDbGtid{0, s, n}; };
  CHECK((*has)(g(1, 99)));
  CHECK((*has)(g(1, 100)));
  CHECK_FALSE((*has)(g(1, 101)));
  CHECK((*has)(g(2, 105)));
  CHECK_FALSE((*has)(g(3, 101)));
  CHECK_FALSE(SourceHas("x", "", "").ok());
}

TEST_CASE("LocalErrant: a replica's own writes after what it replicated") {
  struct Row {
    const char* name;
    const char* current;
    const char* slave;
    const char* want;
  };
  std::vector<Row> rows = {
      {"replicating, nothing of its own", "0-1-12", "0-1-12", ""},
      {"one write of its own (server 2)", "0-2-13", "0-1-12", "0-2-13"},
      {"several", "0-2-15", "0-1-12", "0-2-13..15"},
      {"in a domain it never replicated", "0-1-12,5-2-3", "0-1-12", "5-2-1..3"},
      {"nothing at all", "", "", ""},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    auto e = LocalErrant(r.current, r.slave);
    REQUIRE(e.ok());
    CHECK(FormatErrant(*e) == r.want);
  }
  CHECK_FALSE(LocalErrant("x", "").ok());
  CHECK_FALSE(LocalErrant("", "x").ok());
}

TEST_CASE("ParseBinlogEventGtid") {
  auto g = ParseBinlogEventGtid("BEGIN GTID 0-1-101");
  REQUIRE(g);
  CHECK(g->domain_id == 0);
  CHECK(g->server_id == 1);
  CHECK(g->seqno == 101);
  g = ParseBinlogEventGtid("GTID 2-7-9 cid=12");
  REQUIRE(g);
  CHECK(g->seqno == 9);
  CHECK_FALSE(ParseBinlogEventGtid("use `appdb`; INSERT INTO t VALUES (1)"));
  CHECK_FALSE(ParseBinlogEventGtid("BEGIN GTID x"));
  CHECK_FALSE(ParseBinlogEventGtid(""));
}

}  // namespace
}  // namespace manage::cluster
