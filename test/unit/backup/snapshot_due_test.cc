#include "backup/snapshot_due.h"

#include <catch2/catch.hpp>

namespace manage::backup {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

TEST_CASE("DecideSnapshot") {
  const system_clock::time_point now = system_clock::time_point(seconds(1'800'000'000));
  struct Row {
    const char* what;
    bool is_primary;
    std::optional<seconds> backup_age;  // nullopt: no LAST_BACKUP_KEY
    std::optional<std::string> last_binlog;
    std::string current_binlog;
    bool due;
    std::string reason;
  };
  auto row = GENERATE(values<Row>({
      {"replica never snapshots", false, std::nullopt, std::nullopt, "mysql-bin.000001", false,
       "not the primary"},
      {"replica with old backup", false, hours(100), "mysql-bin.000001", "mysql-bin.000009", false,
       "not the primary"},
      {"first snapshot", true, std::nullopt, std::nullopt, "mysql-bin.000001", true,
       "no snapshot yet"},
      {"first snapshot without binlog", true, std::nullopt, std::nullopt, "", true,
       "no snapshot yet"},
      {"binlog rotated", true, seconds(60), "mysql-bin.000001", "mysql-bin.000002", true,
       "binlog rotated from mysql-bin.000001 to mysql-bin.000002"},
      {"binlog key missing", true, seconds(60), std::nullopt, "mysql-bin.000002", true,
       "no binlog recorded for the last snapshot"},
      {"binlog key empty", true, seconds(60), "", "mysql-bin.000002", true,
       "no binlog recorded for the last snapshot"},
      {"TTL reached exactly", true, seconds(86400), "mysql-bin.000003", "mysql-bin.000003", true,
       "last snapshot older than TTL"},
      {"TTL passed", true, hours(30), "mysql-bin.000003", "mysql-bin.000003", true,
       "last snapshot older than TTL"},
      {"fresh and same binlog", true, seconds(86399), "mysql-bin.000003", "mysql-bin.000003", false,
       "not due"},
      {"binlog off, fresh", true, seconds(60), std::nullopt, "", false, "not due"},
      {"binlog off, old", true, hours(25), std::nullopt, "", true, "last snapshot older than TTL"},
      {"backup time in the future (clock skew)", true, seconds(-3600), "mysql-bin.000003",
       "mysql-bin.000003", false, "not due"},
  }));
  CAPTURE(row.what);
  SnapshotInputs in;
  in.is_primary = row.is_primary;
  in.now = now;
  in.backup_ttl = seconds(86400);
  if (row.backup_age) in.last_backup = LastBackup{"b", now - *row.backup_age};
  in.last_binlog = row.last_binlog;
  in.current_binlog = row.current_binlog;
  SnapshotDecision d = DecideSnapshot(in);
  CHECK(d.due == row.due);
  CHECK(d.reason == row.reason);
}

}  // namespace
}  // namespace manage::backup
