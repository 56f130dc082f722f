#include "backup/binlog_info.h"

#include <catch2/catch.hpp>

namespace manage::backup {
namespace {

// The end of `mariabackup --backup --stream=xbstream` stderr, MariaDB 10.11.19.
constexpr char kBackupLog[] =
    "[00] 2026-11-23 04:34:29 Streaming xtrabackup_binlog_info\n"
    "[00] 2026-11-23 04:34:29         ...done\n"
    "[00] 2026-11-23 04:34:29 Executing FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS...\n"
    "[00] 2026-11-23 04:34:29 MySQL binlog position: filename 'mysql-bin.000002', "
    "position '551', GTID of the last change '0-1-4'\n"
    "[00] 2026-11-23 04:34:29 Streaming xtrabackup_info\n"
    "[00] 2026-11-23 04:34:29         ...done\n"
    "[00] 2026-11-23 04:34:29 Redo log (from LSN 44404 to 48531) was copied.\n"
    "2026-11-23  4:34:29 0 [Note] InnoDB: Starting shutdown...\n"
    "[00] 2026-11-23 04:34:29 completed OK!\n";

TEST_CASE("ParseBackupLog reads mariabackup's binlog position line") {
  Result<BinlogPosition> pos = ParseBackupLog(kBackupLog);
  REQUIRE(pos.ok());
  CHECK(pos->file == "mysql-bin.000002");
  CHECK(pos->position == 551);
  CHECK(pos->gtid == "0-1-4");
}

TEST_CASE("ParseBackupLog variants") {
  auto [log, file, position, gtid] =
      GENERATE(table<std::string, std::string, uint64_t, std::string>({
          {"MySQL binlog position: filename 'b.000001', position '4'", "b.000001", 4, ""},
          {"MySQL binlog position: filename 'b.1', position '4', GTID of the last change ''\n",
           "b.1", 4, ""},
          {"MySQL binlog position: filename 'b.1', position '9', GTID of the last change "
           "'0-1-4,1-2-30'",
           "b.1", 9, "0-1-4,1-2-30"},
          {"MySQL binlog position: filename 'old', position '1'\n"
           "MySQL binlog position: filename 'new', position '2', GTID of the last change '0-1-2'",
           "new", 2, "0-1-2"},
      }));
  Result<BinlogPosition> pos = ParseBackupLog(log);
  REQUIRE(pos.ok());
  CHECK(pos->file == file);
  CHECK(pos->position == position);
  CHECK(pos->gtid == gtid);
}

TEST_CASE("ParseBackupLog errors") {
  CHECK(ParseBackupLog("[00] completed OK!\n").status().code() == Code::kNotFound);
  CHECK(ParseBackupLog("").status().code() == Code::kNotFound);
  std::string bad =
      GENERATE(as<std::string>{}, "MySQL binlog position: filename 'b.1', position 'x'",
               "MySQL binlog position: filename '', position '4'",
               "MySQL binlog position: file 'b.1', position '4'",
               "MySQL binlog position: filename 'b.1'\n, position '4'");
  CAPTURE(bad);
  CHECK(ParseBackupLog(bad).status().code() == Code::kInvalidArgument);
}

TEST_CASE("ParseBinlogInfoFile") {
  auto [text, file, position, gtid] =
      GENERATE(table<std::string, std::string, uint64_t, std::string>({
          {"mysql-bin.000002\t551\t0-1-4\n", "mysql-bin.000002", 551, "0-1-4"},
          {"mysql-bin.000002\t551\n", "mysql-bin.000002", 551, ""},
          {"mysql-bin.000002\t551\t\n", "mysql-bin.000002", 551, ""},
          {"b.9\t77\t0-1-4,\n1-2-3\n", "b.9", 77, "0-1-4,1-2-3"},
      }));
  Result<BinlogPosition> pos = ParseBinlogInfoFile(text);
  REQUIRE(pos.ok());
  CHECK(pos->file == file);
  CHECK(pos->position == position);
  CHECK(pos->gtid == gtid);
}

TEST_CASE("ParseBinlogInfoFile rejects malformed files") {
  std::string text = GENERATE(as<std::string>{}, "", "\n", "mysql-bin.000002",
                              "mysql-bin.000002\tx\t0-1-4", "\t5\t0-1-1", "a\t1\t2\t3");
  CAPTURE(text);
  CHECK(ParseBinlogInfoFile(text).status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace manage::backup
