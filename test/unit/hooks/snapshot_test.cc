// The snapshot hook: only the primary, only when due, one at a time
// cluster-wide under BACKUP_LOCK_KEY, and nothing recorded unless it worked.
#include <algorithm>
#include <catch2/catch.hpp>

#include "backup/backup_record.h"
#include "storage/sha256.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;
using Reply = sys::FakeProcessRunner::Reply;
using Strings = std::vector<std::string>;

constexpr char kStream[] = "XBSTCK01 pretend this is a backup stream of some length";
constexpr char kStderr[] =
    "[00] 2026-01-01 00:00:01 MySQL binlog position: filename 'mysql-bin.000002', "
    "position '551', GTID of the last change '0-1-4'\n"
    "[00] 2026-01-01 00:00:01 completed OK!\n";
constexpr char kName[] = "mysql-backup-2026-01-01T00-00-00Z";
constexpr char kBackupSession[] = "backup-session-1";

struct SnapshotFixture : HookFixture {
  SnapshotFixture() {
    db().Reply("SHOW MASTER STATUS",
               mysql::MakeResult({"File", "Position"}, {{"mysql-bin.000002", "551"}}));
  }
  // This node holds PRIMARY_KEY; its next session (the backup lock's) is kBackupSession.
  std::string BecomePrimary() {
    std::string id = HoldLockHere();
    consul.QueueSessionId(kBackupSession);
    return id;
  }
  // LAST_BACKUP_KEY taken `age` ago and LAST_BINLOG_KEY (unset when empty).
  void PublishLast(std::chrono::seconds age, const std::string& binlog) {
    backup::BackupRecord r;
    r.id = "mysql-backup-earlier";
    r.time = clock.Now() - age;
    REQUIRE(consul.Put(config.keys.last_backup_key, backup::SerializeBackupRecord(r)).ok());
    if (!binlog.empty()) REQUIRE(consul.Put(config.keys.last_binlog_key, binlog).ok());
  }
  std::optional<backup::BackupRecord> LastRecord() {
    auto kv = consul.Peek(config.keys.last_backup_key);
    if (!kv) return std::nullopt;
    auto r = backup::ParseBackupRecord(kv->value);
    REQUIRE(r.ok());
    return *r;
  }
  std::string LastBinlog() {
    auto kv = consul.Peek(config.keys.last_binlog_key);
    return kv ? kv->value : "<unset>";
  }
  // The backup lock was released, then its session destroyed.
  void CheckLockCleanedUp() {
    Strings log = consul.CallLog();
    auto released = std::find(log.begin(), log.end(), "Release " + config.keys.backup_lock_key);
    auto destroyed =
        std::find(log.begin(), log.end(), std::string("DestroySession ") + kBackupSession);
    CHECK(released < destroyed);
    CHECK(destroyed != log.end());
    auto lock = consul.Peek(config.keys.backup_lock_key);
    CHECK((!lock || lock->session.empty()));
    CHECK_FALSE(consul.SessionExists(kBackupSession));
  }
};

TEST_CASE("snapshot does nothing on a node that does not hold the primary lock") {
  using Lock = HookFixture::Lock;
  for (Lock lock : {Lock::kHeldByOther, Lock::kFree, Lock::kOurNameOldSession}) {
    for (bool force : {false, true}) {
      CAPTURE(static_cast<int>(lock), force);
      SnapshotFixture f;
      f.SetLock(lock);
      f.consul.ClearCalls();
      REQUIRE(Snapshot(f.deps, force ? Args{"--force"} : Args{}).ok());
      CHECK(f.runner.calls().empty());
      CHECK(f.db().connects().empty());
      CHECK_FALSE(f.Called("CreateSession"));
      CHECK_FALSE(f.LastRecord().has_value());
    }
  }
}

TEST_CASE("snapshot on the primary does nothing when none is due") {
  SnapshotFixture f;
  f.BecomePrimary();
  f.PublishLast(1h, "mysql-bin.000002");
  f.consul.ClearCalls();
  REQUIRE(Snapshot(f.deps, {}).ok());
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.Called("CreateSession"));
  CHECK(f.LastRecord()->id == "mysql-backup-earlier");
}

TEST_CASE("snapshot takes one when due, records it and releases the backup lock") {
  struct Row {
    const char* what;
    std::optional<std::chrono::seconds> last_age;  // no record when unset
    std::string last_binlog;
    Args args;
  };
  const Row rows[] = {
      {"no snapshot yet", std::nullopt, "", {}},
      {"binlog rotated", 1h, "mysql-bin.000001", {}},
      {"no binlog recorded for the last one", 1h, "", {}},
      {"older than BACKUP_TTL", 24h, "mysql-bin.000002", {}},
      {"not due but forced", 1h, "mysql-bin.000002", {"--force"}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    SnapshotFixture f;
    std::string primary_session = f.BecomePrimary();
    if (row.last_age) f.PublishLast(*row.last_age, row.last_binlog);
    f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));

    REQUIRE(Snapshot(f.deps, row.args).ok());
    REQUIRE(f.runner.calls().size() == 1);
    const sys::Command& cmd = f.runner.calls()[0].cmd;
    CHECK(cmd.argv.at(0) == "mariabackup");
    CHECK(cmd.argv.at(2) == "--backup");
    for (const std::string& a : cmd.argv) CHECK(a.find(kReplPassword) == std::string::npos);
    CHECK(f.store.objects.at(kName) == kStream);
    auto record = f.LastRecord();
    REQUIRE(record.has_value());
    CHECK(record->id == kName);
    CHECK(record->gtid == "0-1-4");
    CHECK(record->node == kNode);
    CHECK(record->store == "local");
    CHECK(record->sha256 == *storage::Sha256Hex(kStream));
    CHECK(f.LastBinlog() == "mysql-bin.000002");
    f.CheckLockCleanedUp();
    CHECK(f.consul.SessionExists(primary_session));  // the primary's own session is untouched
    CHECK_FALSE(f.fs.Exists(f.config.state_dir + "/snapshot/" + kName + ".cnf"));
    CHECK_FALSE(f.Logged(kReplPassword));
  }
}

TEST_CASE("snapshot skips when another node holds the backup lock") {
  SnapshotFixture f;
  auto other = f.consul.AgentOn("node2");
  auto other_session = other->CreateSession({"mysql-n2-backup", 30s, "release", 0s, std::nullopt});
  REQUIRE(other_session.ok());
  REQUIRE(*other->Acquire(f.config.keys.backup_lock_key, *other_session, kOther));
  f.BecomePrimary();

  REQUIRE(Snapshot(f.deps, {"--force"}).ok());
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.LastRecord().has_value());
  CHECK_FALSE(f.consul.SessionExists(kBackupSession));
  CHECK(f.consul.Peek(f.config.keys.backup_lock_key)->session == *other_session);
}

TEST_CASE("snapshot: a failed backup records nothing and still releases the lock") {
  SnapshotFixture f;
  f.BecomePrimary();
  SECTION("mariabackup fails") {
    f.runner.Script("mariabackup", Reply().Exit(1).Stdout("half").Stderr("oops\n"));
  }
  SECTION("the backup lock's session cannot be renewed while streaming") {
    f.runner.Script("mariabackup",
                    Reply().Stdout(kStream).Stderr(kStderr).Effect(
                        [&f](const sys::FakeProcessRunner::Call&) { f.clock.Advance(20s); }));
    f.consul.FailNext(1, Status::NotFound("session gone"), "RenewSession");
  }
  Status s = Snapshot(f.deps, {});
  CHECK_FALSE(s.ok());
  CHECK(f.runner.calls().size() == 1);
  CHECK_FALSE(f.LastRecord().has_value());
  CHECK(f.LastBinlog() == "<unset>");
  CHECK(f.store.objects.empty());
  f.CheckLockCleanedUp();
}

TEST_CASE("snapshot renews the backup lock's session while mariabackup streams") {
  SnapshotFixture f;
  f.BecomePrimary();
  f.runner.Script("mariabackup",
                  Reply().Stdout(kStream).Stderr(kStderr).Effect(
                      [&f](const sys::FakeProcessRunner::Call&) { f.clock.Advance(20s); }));
  REQUIRE(Snapshot(f.deps, {}).ok());
  Strings log = f.consul.CallLog();
  CHECK(std::count(log.begin(), log.end(), std::string("RenewSession ") + kBackupSession) >= 1);
  CHECK(f.LastRecord().has_value());
}

TEST_CASE("snapshot refuses to run without a backend or with unknown arguments") {
  SnapshotFixture f;
  f.BecomePrimary();
  SECTION("no backend") {
    f.store_unavailable = Status::InvalidArgument("MANTA_USER: not set");
    CHECK(Snapshot(f.deps, {}).code() == Code::kInvalidArgument);
  }
  SECTION("unknown argument") {
    CHECK(Snapshot(f.deps, {"--now"}).code() == Code::kInvalidArgument);
  }
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.consul.SessionExists(kBackupSession));
}

TEST_CASE("snapshot finishes the bootstrap: time zones are loaded once, only if empty") {
  struct Row {
    const char* what;
    bool bootstrapped;
    const char* zones;  // COUNT(*) of mysql.time_zone_name
    bool loads;
  };
  const Row rows[] = {
      {"bootstrapped here, no zones yet", true, "0", true},
      {"bootstrapped here, zones loaded", true, "1800", false},
      {"an existing database manage did not bootstrap", false, "0", false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    SnapshotFixture f;
    f.BecomePrimary();
    f.PublishLast(std::chrono::hours(1), "mysql-bin.000002");  // no snapshot due
    if (row.bootstrapped) REQUIRE(f.state().SetBootstrapped().ok());
    f.db().Reply("SELECT COUNT(*) AS n FROM mysql.time_zone_name", mysql::OneValue("n", row.zones));
    f.runner.Script("mariadb-tzinfo-to-sql", Reply().Stdout("INSERT tz;\n"));
    REQUIRE(Snapshot(f.deps, {}).ok());
    if (row.loads) {
      CHECK(f.runner.CommandLines() ==
            Strings{"mariadb-tzinfo-to-sql /usr/share/zoneinfo",
                    "mariadb --no-defaults --user=root --socket=/run/mysqld/mysqld.sock mysql"});
      CHECK(f.runner.calls().at(1).stdin_data == "INSERT tz;\n");
    } else {
      CHECK(f.runner.calls().empty());
    }
  }
}

}  // namespace
}  // namespace manage::hooks
