#include "cluster/flashback.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

using Events = std::vector<BinlogEvent>;

// One transaction of row changes in file `file`.
void Rows(Events& out, const std::string& file, const std::string& gtid,
          const std::string& rows = "Write_rows_v1") {
  out.push_back({file, "Gtid", "BEGIN GTID " + gtid});
  out.push_back({file, "Annotate_rows", "insert into t values (1)"});
  out.push_back({file, "Table_map", "table_id: 18 (appdb.t)"});
  out.push_back({file, rows, "table_id: 18 flags: STMT_END_F"});
  out.push_back({file, "Xid", "COMMIT /* xid=5 */"});
}

void Header(Events& out, const std::string& file, const std::string& gtid_list) {
  out.push_back({file, "Format_desc", "Server ver: 10.11.6-MariaDB-log, Binlog ver: 4"});
  out.push_back({file, "Gtid_list", gtid_list});
  out.push_back({file, "Binlog_checkpoint", file});
}

HasGtid UpTo(const char* slave_pos) {
  return ReplicatedUpTo(*mysql::MariaDbGtidPosition::Parse(slave_pos));
}

TEST_CASE("PlanFlashback: a replica's own writes after what it replicated") {
  Events e;
  Header(e, "bin.000001", "[]");
  Rows(e, "bin.000001", "0-1-11");
  Rows(e, "bin.000001", "0-1-12");
  Rows(e, "bin.000001", "0-2-13", "Update_rows_v1");  // its own
  Rows(e, "bin.000001", "0-2-14", "Delete_rows_v1");
  e.push_back({"bin.000001", "Rotate", "bin.000002;pos=4"});
  FlashbackPlan p = PlanFlashback(e, UpTo("0-1-12"), "0-2-14");
  CHECK(p.why_not.empty());
  CHECK(p.errant == std::vector<std::string>{"0-2-13", "0-2-14"});
  CHECK(p.files == std::vector<std::string>{"bin.000001"});
  CHECK(p.start_position == "0-1-12");
  CHECK(p.domains == "0");
  CHECK(p.position == "0-1-12");
}

TEST_CASE("PlanFlashback: errant writes across files, other domains kept") {
  Events e;
  Header(e, "bin.000002", "[1-1-3,0-1-98,0-1-100]");
  Rows(e, "bin.000002", "0-5-101");
  Rows(e, "bin.000002", "1-1-4");  // another domain, common
  e.push_back({"bin.000002", "Rotate", "bin.000003;pos=4"});
  Header(e, "bin.000003", "[1-1-4,0-5-101]");
  Rows(e, "bin.000003", "0-5-102");
  // The cluster has server 5 only up to 100 in domain 0 (what a source's
  // binlog state would say), everything of domain 1.
  HasGtid has = [](const mysql::MariaDbGtid& g) {
    return g.domain_id == 1 || (g.domain_id == 0 && g.seqno <= 100);
  };
  FlashbackPlan p = PlanFlashback(e, has, "0-5-102,1-1-4");
  CHECK(p.why_not.empty());
  CHECK(p.errant == std::vector<std::string>{"0-5-101", "0-5-102"});
  CHECK(p.files == std::vector<std::string>{"bin.000002", "bin.000003"});
  CHECK(p.start_position == "0-1-100");  // from the first file's Gtid_list
  CHECK(p.domains == "0");
  CHECK(p.position == "0-1-100,1-1-4");
}

TEST_CASE("PlanFlashback: what flashback cannot revert") {
  SECTION("a DDL statement") {
    Events e;
    Header(e, "bin.000001", "[0-1-12]");
    e.push_back({"bin.000001", "Gtid", "GTID 0-2-13"});
    e.push_back({"bin.000001", "Query", "use `appdb`; ALTER TABLE t ADD c INT"});
    FlashbackPlan p = PlanFlashback(e, UpTo("0-1-12"), "0-2-13");
    CHECK_THAT(p.why_not, Catch::Contains("0-2-13 is a DDL statement"));
  }
  SECTION("a statement logged as a statement") {
    Events e;
    Header(e, "bin.000001", "[0-1-12]");
    e.push_back({"bin.000001", "Gtid", "BEGIN GTID 0-2-13"});
    e.push_back({"bin.000001", "Query", "use `appdb`; INSERT INTO t VALUES (NOW())"});
    e.push_back({"bin.000001", "Xid", "COMMIT /* xid=9 */"});
    FlashbackPlan p = PlanFlashback(e, UpTo("0-1-12"), "0-2-13");
    CHECK_THAT(p.why_not, Catch::Contains("holds a Query event"));
  }
  SECTION("binlogs purged: the errant transactions are gone") {
    Events e;
    Header(e, "bin.000009", "[0-2-20]");
    Rows(e, "bin.000009", "0-2-21");
    FlashbackPlan p = PlanFlashback(e, UpTo("0-1-12"), "0-2-13");
    CHECK_THAT(p.why_not, Catch::Contains("no longer hold"));
  }
}

TEST_CASE("StartsBeforeErrant: where to start reading the binlogs backwards") {
  HasGtid has = [](const mysql::MariaDbGtid& g) { return g.seqno <= 100; };
  CHECK(StartsBeforeErrant("[0-1-99,0-2-100]", has, "0-2-105"));
  CHECK(StartsBeforeErrant("[]", has, "0-2-105"));
  CHECK(StartsBeforeErrant("[1-1-500]", has, "0-2-105"));  // nothing of domain 0 before
  CHECK_FALSE(StartsBeforeErrant("[0-2-101]", has, "0-2-105"));
  CHECK_FALSE(StartsBeforeErrant("0-2-101", has, "0-2-105"));
}

}  // namespace
}  // namespace manage::cluster
