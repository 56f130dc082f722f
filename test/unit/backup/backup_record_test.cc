#include "backup/backup_record.h"

#include <catch2/catch.hpp>

namespace manage::backup {
namespace {

using namespace std::chrono;

system_clock::time_point At(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
  return system_clock::time_point(duration_cast<system_clock::duration>(
      sys_days(year(y) / mo / d).time_since_epoch() + hours(h) + minutes(mi) + seconds(s) +
      microseconds(us)));
}

TEST_CASE("ParseBackupRecord reads the original two-field record") {
  Result<BackupRecord> r = ParseBackupRecord(
      R"({"id": "mysql-backup-2026-11-23T04-00-00Z", "dt": "2026-11-23T04:00:00.123456"})");
  REQUIRE(r.ok());
  CHECK(r->id == "mysql-backup-2026-11-23T04-00-00Z");
  CHECK(r->time == At(2026, 11, 23, 4, 0, 0, 123456));
  CHECK(r->gtid.empty());
  CHECK(r->size == 0);
  CHECK(r->sha256.empty());
  CHECK(r->compression == "none");  // the original's snapshots were neither
  CHECK(r->encryption == "none");
  CHECK(r->key_id.empty());
}

TEST_CASE("SerializeBackupRecord writes every field and parses back") {
  BackupRecord r;
  r.id = "mysql-backup-2026-11-23T04-00-00Z";
  r.time = At(2026, 11, 23, 4, 0, 0);
  r.gtid = "0-1-4,1-2-3";
  r.binlog = "mysql-bin.000002";
  r.size = 17636945;
  r.sha256 = std::string(64, 'a');
  r.node = "db-1";
  r.store = "local";
  r.compression = "zstd";
  r.encryption = "aes-256-gcm";
  r.key_id = "0123456789abcdef";
  r.raw_size = 90000000;
  r.duration_ms = 5210;
  r.service = "mysql";
  std::string json = SerializeBackupRecord(r);
  CHECK(json == R"({"id":"mysql-backup-2026-11-23T04-00-00Z","dt":"2026-11-23T04:00:00.000000",)"
                R"("gtid":"0-1-4,1-2-3","binlog":"mysql-bin.000002","size":17636945,)"
                R"("sha256":")" +
                    std::string(64, 'a') +
                    R"(","node":"db-1","store":"local","compression":"zstd",)"
                    R"("encryption":"aes-256-gcm","key_id":"0123456789abcdef",)"
                    R"("raw_size":90000000,"duration_ms":5210,"service":"mysql"})");
  Result<BackupRecord> back = ParseBackupRecord(json);
  REQUIRE(back.ok());
  CHECK(back->id == r.id);
  CHECK(back->time == r.time);
  CHECK(back->gtid == r.gtid);
  CHECK(back->binlog == r.binlog);
  CHECK(back->size == r.size);
  CHECK(back->sha256 == r.sha256);
  CHECK(back->node == r.node);
  CHECK(back->store == r.store);
  CHECK(back->compression == r.compression);
  CHECK(back->encryption == r.encryption);
  CHECK(back->key_id == r.key_id);
  CHECK(back->raw_size == r.raw_size);
  CHECK(back->duration_ms == r.duration_ms);
  CHECK(back->service == r.service);
}

TEST_CASE("SerializeBackupRecord escapes strings") {
  BackupRecord r;
  r.id = "x";
  r.node = "a\"b\\c";
  Result<BackupRecord> back = ParseBackupRecord(SerializeBackupRecord(r));
  REQUIRE(back.ok());
  CHECK(back->node == "a\"b\\c");
}

TEST_CASE("ParseBackupRecord rejects what it cannot trust") {
  auto [json, why] = GENERATE(table<std::string, std::string>({
      {"", "backup record is not valid JSON"},
      {"{\"id\":", "backup record is not valid JSON"},
      {"[1,2]", "backup record is not a JSON object"},
      {"\"id\"", "backup record is not a JSON object"},
      {R"({"dt":"2026-11-23T04:00:00"})", "backup record has no \"id\""},
      {R"({"id":7,"dt":"2026-11-23T04:00:00"})", "backup record \"id\" is not a string"},
      {R"({"id":"x"})", "backup record has no \"dt\""},
      {R"({"id":"x","dt":1700000000})", "backup record \"dt\" is not a string"},
      {R"({"id":"x","dt":"yesterday"})",
       "bad backup time 'yesterday': want YYYY-MM-DDTHH:MM:SS[.ffffff]"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","gtid":5})",
       "backup record \"gtid\" is not a string"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","size":-1})",
       "backup record \"size\" is not a non-negative integer"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","size":"12"})",
       "backup record \"size\" is not a non-negative integer"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","size":1.5})",
       "backup record \"size\" is not a non-negative integer"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","raw_size":-3})",
       "backup record \"raw_size\" is not a non-negative integer"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","compression":"lz4"})",
       "backup record \"compression\" is 'lz4', which this version cannot read"},
      {R"({"id":"x","dt":"2026-11-23T04:00:00","encryption":"rot13"})",
       "backup record \"encryption\" is 'rot13', which this version cannot read"},
  }));
  CAPTURE(json);
  Result<BackupRecord> r = ParseBackupRecord(json);
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message() == why);
}

TEST_CASE("ParseBackupRecord treats null optional fields as absent") {
  Result<BackupRecord> r = ParseBackupRecord(
      R"({"id":"x","dt":"2026-11-23T04:00:00","gtid":null,"size":null,"extra":[1]})");
  REQUIRE(r.ok());
  CHECK(r->gtid.empty());
}

TEST_CASE("ParseBackupTime") {
  auto [text, want] = GENERATE(table<std::string, system_clock::time_point>({
      {"2026-11-23T04:00:00.000000", At(2026, 11, 23, 4, 0, 0)},
      {"2026-11-23T04:00:00", At(2026, 11, 23, 4, 0, 0)},  // isoformat() without micros
      {"2026-11-23T04:00:00Z", At(2026, 11, 23, 4, 0, 0)},
      {"2026-11-23T04:00:00.5+00:00", At(2026, 11, 23, 4, 0, 0, 500000)},
      {"2024-02-29T23:59:59.999999", At(2024, 2, 29, 23, 59, 59, 999999)},
      {"1970-01-01T00:00:00.000001", At(1970, 1, 1, 0, 0, 0, 1)},
  }));
  CAPTURE(text);
  Result<system_clock::time_point> t = ParseBackupTime(text);
  REQUIRE(t.ok());
  CHECK(*t == want);
}

TEST_CASE("ParseBackupTime rejects malformed times") {
  std::string text =
      GENERATE(as<std::string>{}, "", "2026-11-23", "2026-11-23 04:00:00", "2026-02-30T00:00:00",
               "2026-13-01T00:00:00", "2026-11-23T24:00:00", "2026-11-23T04:60:00",
               "2026-11-23T04:00:00.", "2026-11-23T04:00:00.1234567890",
               "2026-11-23T04:00:00+02:00", "+026-11-23T04:00:00", "2026-11-23T04:00:0x");
  CAPTURE(text);
  CHECK(ParseBackupTime(text).status().code() == Code::kInvalidArgument);
}

TEST_CASE("FormatBackupTime writes UTC with microseconds") {
  auto [time, want] = GENERATE(table<system_clock::time_point, std::string>({
      {system_clock::time_point{}, "1970-01-01T00:00:00.000000"},
      {At(2026, 11, 23, 4, 5, 6, 7), "2026-11-23T04:05:06.000007"},
      {At(2026, 11, 23, 4, 5, 6) + nanoseconds(999), "2026-11-23T04:05:06.000000"},
      {At(2099, 12, 31, 23, 59, 59, 999999), "2099-12-31T23:59:59.999999"},
  }));
  CHECK(FormatBackupTime(time) == want);
}

TEST_CASE("BackupName formats the BACKUP_NAME pattern in UTC") {
  auto [pattern, want] = GENERATE(table<std::string, std::string>({
      {kDefaultBackupName, "mysql-backup-2026-11-23T04-05-06Z"},
      {"snap-%Y%m%d-%H%M%S", "snap-20261123-040506"},
      {"fixed", "fixed"},
      {"100%%", "100%"},
  }));
  Result<std::string> name = BackupName(pattern, At(2026, 11, 23, 4, 5, 6, 999));
  REQUIRE(name.ok());
  CHECK(*name == want);
}

TEST_CASE("BackupName rejects patterns that give bad object names") {
  std::string pattern = GENERATE(as<std::string>{}, "", "backups/%Y", "..%Y", ".%Y");
  CAPTURE(pattern);
  CHECK(BackupName(pattern, At(2026, 1, 1, 0, 0, 0)).status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace manage::backup
