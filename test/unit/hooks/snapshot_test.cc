// The snapshot hook: only the primary, only when due, one at a time
// cluster-wide under BACKUP_LOCK_KEY, and nothing recorded unless it worked.
#include <algorithm>
#include <catch2/catch.hpp>

#include "backup/backup_record.h"
#include "backup/crypt.h"
#include "backup/pipeline.h"
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

// A keeper that renews nothing: the test says when the session is lost. It
// tells `*stopped` (the fixture's: the hook destroys the keeper) when stopped.
class FakeKeeper final : public consul::Keeper {
 public:
  // Both flags belong to the test and outlive the keeper.
  FakeKeeper(const bool* lost, bool* stopped) : lost_(lost), stopped_(stopped) {}
  void Stop() override { *stopped_ = true; }
  bool Lost() const override { return *lost_; }
  std::string LostReason() const override { return "Session id 'x' not found"; }

 private:
  const bool* lost_;
  bool* stopped_;
};

struct SnapshotFixture : HookFixture {
  SnapshotFixture() {
    db().Reply("SHOW MASTER STATUS",
               mysql::MakeResult({"File", "Position"}, {{"mysql-bin.000002", "551"}}));
    deps.keep_session = [this](const std::string& session, std::chrono::seconds ttl,
                               std::atomic<bool>* flag) {
      kept.push_back(session);
      kept_ttl = ttl;
      kept_cancel = flag;
      keeper_stopped = false;
      return std::unique_ptr<consul::Keeper>(new FakeKeeper(&keeper_lost, &keeper_stopped));
    };
    deps.store_cancel = &cancel;
  }
  std::vector<std::string> kept;  // sessions a keeper was started for
  std::chrono::seconds kept_ttl{0};
  std::atomic<bool>* kept_cancel = nullptr;
  bool keeper_stopped = false;
  bool keeper_lost = false;
  std::atomic<bool> cancel{false};

  // What mariabackup wrote, decoded from what the store holds.
  std::string Decoded(const backup::BackupRecord& record) {
    std::string out;
    auto sink = backup::SinkTo([&out](std::string_view chunk) {
      out.append(chunk);
      return Status::Ok();
    });
    auto decoder = backup::Decoder::Create(record, key ? &*key : nullptr, sink.get());
    REQUIRE(decoder.ok());
    REQUIRE((*decoder)->input().Write(store.objects.at(record.id)).ok());
    REQUIRE((*decoder)->input().Close().ok());
    REQUIRE((*decoder)->CheckRecord().ok());
    return out;
  }
  std::optional<backup::BackupKey> key;
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
    auto record = f.LastRecord();
    REQUIRE(record.has_value());
    CHECK(record->id == kName);
    CHECK(record->gtid == "0-1-4");
    CHECK(record->node == kNode);
    CHECK(record->store == "local");
    CHECK(record->service == "mysql");
    CHECK(record->compression == "zstd");  // the default
    CHECK(record->encryption == "none");
    CHECK(record->raw_size == std::string(kStream).size());
    CHECK(record->sha256 == *storage::Sha256Hex(f.store.objects.at(kName)));
    CHECK(f.Decoded(*record) == kStream);
    // The manifest in the store is the record.
    CHECK(f.store.objects.at(std::string(kName) + ".json") ==
          backup::SerializeBackupRecord(*record));
    // The backup lock's session was kept alive from another thread, then let go.
    CHECK(f.kept == Strings{kBackupSession});
    CHECK(f.kept_ttl == 30s);
    CHECK(f.kept_cancel == &f.cancel);
    CHECK(f.keeper_stopped);
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
  std::string why;
  SECTION("mariabackup fails") {
    f.runner.Script("mariabackup", Reply().Exit(1).Stdout("half").Stderr("oops\n"));
    why = "mariabackup --backup exited 1";
  }
  SECTION("the backup lock's session is lost while streaming") {
    f.runner.Script("mariabackup",
                    Reply().Stdout(kStream).Stderr(kStderr).Effect(
                        [&f](const sys::FakeProcessRunner::Call&) { f.keeper_lost = true; }));
    why = "the backup lock was lost";
  }
  Status s = Snapshot(f.deps, {});
  CHECK_FALSE(s.ok());
  CHECK(s.message().find(why) != std::string::npos);
  CHECK(f.runner.calls().size() == 1);
  CHECK_FALSE(f.LastRecord().has_value());
  CHECK(f.LastBinlog() == "<unset>");
  CHECK(f.store.objects.empty());
  f.CheckLockCleanedUp();
}

TEST_CASE("snapshot: a primary demoted during the backup records nothing, deletes what it wrote") {
  SnapshotFixture f;
  const std::string primary_session = f.BecomePrimary();
  f.PublishLast(48h, "mysql-bin.000001");
  const std::string before = f.consul.Peek(f.config.keys.last_backup_key)->value;
  // While mariabackup runs, the cluster fails over: this node's session dies
  // and another node takes PRIMARY_KEY.
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr).Effect(
                                     [&](const sys::FakeProcessRunner::Call&) {
                                       REQUIRE(f.consul.DestroySession(primary_session).ok());
                                       f.clock.Advance(f.config.lock_delay + 1s);
                                       f.GiveLockTo(kOther);
                                     }));
  Status s = Snapshot(f.deps, {});
  CHECK(s.code() == Code::kAborted);
  CHECK(s.message().find("no longer the primary") != std::string::npos);
  CHECK(f.consul.Peek(f.config.keys.last_backup_key)->value == before);
  CHECK(f.LastBinlog() == "mysql-bin.000001");
  CHECK(f.store.objects.empty());
  f.CheckLockCleanedUp();
}

TEST_CASE("snapshot deletes the snapshots retention no longer keeps, never the new one") {
  SnapshotFixture f;
  f.config.snapshot.retain_count = 2;
  f.BecomePrimary();
  for (int age_h : {72, 48, 24}) {
    backup::BackupRecord old;
    old.id = "mysql-backup-" + std::to_string(age_h) + "h";
    old.time = f.clock.Now() - std::chrono::hours(age_h);
    old.service = "mysql";
    f.store.objects[old.id] = "stream";
    f.store.objects[old.id + ".json"] = backup::SerializeBackupRecord(old);
  }
  backup::BackupRecord foreign;  // another cluster sharing the store
  foreign.id = "orders-backup-old";
  foreign.time = f.clock.Now() - std::chrono::hours(500);
  foreign.service = "orders";
  f.store.objects[foreign.id] = "stream";
  f.store.objects[foreign.id + ".json"] = backup::SerializeBackupRecord(foreign);
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  REQUIRE(Snapshot(f.deps, {"--force"}).ok());
  CHECK(f.store.removed == Strings{"mysql-backup-72h", "mysql-backup-72h.json", "mysql-backup-48h",
                                   "mysql-backup-48h.json"});
  CHECK(f.store.objects.count(kName) == 1);
  CHECK(f.store.objects.count("mysql-backup-24h") == 1);
  CHECK(f.store.objects.count("orders-backup-old") == 1);
}

TEST_CASE("snapshot retention takes the binlog segments only deleted snapshots needed") {
  SnapshotFixture f;
  f.config.snapshot.retain_count = 2;
  f.BecomePrimary();
  for (int n : {1, 2, 3}) {  // 0-1-1, 0-1-2, 0-1-3; the new one is at 0-1-4 (kStderr)
    backup::BackupRecord old;
    old.id = "mysql-backup-" + std::to_string(n);
    old.time = f.clock.Now() - std::chrono::hours(100 - n);
    old.gtid = "0-1-" + std::to_string(n);
    old.service = "mysql";
    f.store.objects[old.id] = "stream";
    f.store.objects[old.id + ".json"] = backup::SerializeBackupRecord(old);
  }
  // One segment per transaction, 0-1-1 .. 0-1-5.
  Strings segments;
  for (int n = 1; n <= 5; ++n) {
    segments.push_back(
        "0000000001_t_0-" + std::string(n == 1 ? "0-0" : "1-" + std::to_string(n - 1)) + "_0-1-" +
        std::to_string(n) + "_0-1-" + std::to_string(n) + "_100_100_1_n_" + std::string(64, 'a'));
    f.archive.objects[segments.back()] = "";
  }
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  REQUIRE(Snapshot(f.deps, {"--force"}).ok());
  // Kept: mysql-backup-3 (0-1-3) and the new one: what comes after 0-1-3 stays.
  CHECK(f.archive.removed == Strings{segments[0], segments[1], segments[2]});
  CHECK(f.archive.objects.size() == 2);
  CHECK(f.Logged("deleted binlog segments no kept snapshot needs"));
}

TEST_CASE("snapshot: retention failing leaves the new snapshot recorded") {
  SnapshotFixture f;
  f.BecomePrimary();
  f.store.list_error = Status::Unavailable("HTTP 503");
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  REQUIRE(Snapshot(f.deps, {"--force"}).ok());
  CHECK(f.LastRecord()->id == kName);
  CHECK(f.Logged("retention skipped"));
}

TEST_CASE("snapshot encrypts with the configured key; a malformed key runs nothing") {
  SnapshotFixture f;
  f.BecomePrimary();
  SECTION("a key") {
    const std::string hex(64, 'c');
    f.config.snapshot.encryption_key = hex;
    f.key = *backup::ParseBackupKey(hex);
    f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
    REQUIRE(Snapshot(f.deps, {"--force"}).ok());
    auto record = f.LastRecord();
    CHECK(record->encryption == "aes-256-gcm");
    CHECK(record->key_id == f.key->id);
    CHECK(f.store.objects.at(kName).find("pretend this is") == std::string::npos);
    CHECK(f.Decoded(*record) == kStream);
    CHECK_FALSE(f.Logged(hex));
  }
  SECTION("a key file") {
    f.config.snapshot.encryption_key_file = "/run/secrets/snapshot-key";
    f.fs.AddFile("/run/secrets/snapshot-key", std::string(64, 'd') + "\n");
    f.key = *backup::ParseBackupKey(std::string(64, 'd'));
    f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
    REQUIRE(Snapshot(f.deps, {"--force"}).ok());
    CHECK(f.Decoded(*f.LastRecord()) == kStream);
  }
  SECTION("a malformed key") {
    f.config.snapshot.encryption_key = "hunter2";
    Status s = Snapshot(f.deps, {"--force"});
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message().rfind("SNAPSHOT_ENCRYPTION_KEY", 0) == 0);
    CHECK(s.message().find("hunter2") == std::string::npos);
    CHECK(f.runner.calls().empty());
  }
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
