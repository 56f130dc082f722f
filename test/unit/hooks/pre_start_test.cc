// pre_start: my.cnf, and what happens to the datadir (left alone, restored,
// waited for, or initialised).
#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>

#include "backup/backup_record.h"
#include "backup/crypt.h"
#include "backup/pipeline.h"
#include "storage/sha256.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;
using Call = sys::FakeProcessRunner::Call;
using Reply = sys::FakeProcessRunner::Reply;
using Strings = std::vector<std::string>;

constexpr char kDatadir[] = "/var/lib/mysql";
constexpr char kStaging[] = "/var/lib/mysql/.restore";
constexpr char kObject[] = "XBSTCK01 the bytes of a backup stream";
constexpr char kBackupId[] = "mysql-backup-2025-12-31T23-00-00Z";

std::string ReadSourceFile(const std::string& relative) {
  std::FILE* f = std::fopen((std::string(MANAGE_SOURCE_DIR) + "/" + relative).c_str(), "r");
  REQUIRE(f != nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

// Moves a FakeClock and runs `on_sleep` after every SleepFor.
class HookedClock final : public sys::Clock {
 public:
  explicit HookedClock(sys::FakeClock* clock) : clock_(clock) {}
  std::chrono::system_clock::time_point Now() const override { return clock_->Now(); }
  std::chrono::steady_clock::time_point Monotonic() const override { return clock_->Monotonic(); }
  std::chrono::milliseconds SinceBoot() const override { return clock_->SinceBoot(); }
  void SleepFor(std::chrono::milliseconds d) override {
    clock_->SleepFor(d);
    if (on_sleep) on_sleep();
  }
  std::function<void()> on_sleep;

 private:
  sys::FakeClock* clock_;
};

struct PreStartFixture : HookFixture {
  explicit PreStartFixture(const Env& overrides = {}) : HookFixture(overrides) {
    fs.AddFile(config.mysql.cnf_template, ReadSourceFile("containerpilot/my.cnf.tmpl"));
  }
  std::string MyCnf() {
    const sys::FakeFileSystem::Node* n = fs.Find(config.mysql.cnf_path);
    return n == nullptr ? "<missing>" : n->data;
  }
  // A snapshot object in the store and its record in LAST_BACKUP_KEY.
  backup::BackupRecord PublishSnapshot() {
    store.objects[kBackupId] = kObject;
    backup::BackupRecord r;
    r.id = kBackupId;
    r.time = clock.Now() - 1h;
    r.gtid = "0-2-4";
    r.binlog = "mysql-bin.000002";
    r.size = std::string(kObject).size();
    r.sha256 = *storage::Sha256Hex(kObject);
    r.node = kOther;
    r.store = "local";
    REQUIRE(consul.Put(config.keys.last_backup_key, backup::SerializeBackupRecord(r)).ok());
    return r;
  }
  // mbstream unpacks a datadir; --prepare writes the binlog info file.
  void ScriptRestoreTools(const std::string& info_gtid = "0-2-4") {
    runner.Script("mbstream", Reply().Effect([this](const Call& call) {
      const std::string& dir = call.cmd.argv.at(3);
      fs.AddFile(dir + "/ibdata1", "innodb");
      fs.AddFile(dir + "/mysql/user.frm", "frm");
    }));
    runner.Script("mariabackup", Reply().Effect([this, info_gtid](const Call& call) {
      std::string dir = call.cmd.argv.at(2).substr(std::string("--target-dir=").size());
      fs.AddFile(dir + "/xtrabackup_binlog_info", "mysql-bin.000002\t551\t" + info_gtid + "\n");
    }));
  }
  bool RanProgram(const std::string& program) {
    for (const Call& c : runner.calls()) {
      if (c.cmd.argv.at(0) == program) return true;
    }
    return false;
  }
};

TEST_CASE("pre_start renders my.cnf from the template with a server_id kept across runs") {
  struct Row {
    const char* what;
    const char* stored_id;  // server-id in the state dir before the first run
    const char* want;
  };
  const Row rows[] = {
      {"first start: derived from the address", "", "167772171"},  // 10.0.0.11
      {"stored earlier", "777", "777"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    PreStartFixture f;
    f.fs.AddDir("/var/lib/mysql/mysql");
    if (*row.stored_id) REQUIRE(f.state().SetServerId(std::stoul(row.stored_id)).ok());

    REQUIRE(PreStart(f.deps, {}).ok());
    std::string cnf = f.MyCnf();
    CHECK(cnf.find(std::string("server_id                      = ") + row.want + "\n") !=
          std::string::npos);
    CHECK(cnf.find("report_host                    = 10.0.0.11\n") != std::string::npos);
    CHECK(cnf.find("datadir                        = /var/lib/mysql\n") != std::string::npos);
    CHECK(cnf.find("read_only                      = ON\n") != std::string::npos);
    CHECK(cnf.find("{{") == std::string::npos);
    CHECK(f.fs.Find(f.config.mysql.cnf_path)->mode == 0644);
    CHECK(f.state().ServerId() == std::stoul(row.want));

    // The node comes back with another address: same server_id, new report_host.
    f.config.address = "10.0.0.99";
    REQUIRE(PreStart(f.deps, {}).ok());
    cnf = f.MyCnf();
    CHECK(cnf.find(std::string("server_id                      = ") + row.want + "\n") !=
          std::string::npos);
    CHECK(cnf.find("report_host                    = 10.0.0.99\n") != std::string::npos);
  }
}

TEST_CASE("pre_start fails when the template is missing or has an unknown placeholder") {
  PreStartFixture f;
  f.fs.AddDir("/var/lib/mysql/mysql");
  SECTION("missing") {
    REQUIRE(f.fs.RemoveFile(f.config.mysql.cnf_template).ok());
    CHECK(PreStart(f.deps, {}).code() == Code::kNotFound);
  }
  SECTION("unknown placeholder") {
    f.fs.AddFile(f.config.mysql.cnf_template, "x = {{NO_SUCH}}\n");
    CHECK(PreStart(f.deps, {}).code() == Code::kInvalidArgument);
  }
  CHECK_FALSE(f.fs.Exists(f.config.mysql.cnf_path));
}

TEST_CASE("pre_start leaves an existing datadir exactly as it is") {
  PreStartFixture f;
  f.fs.AddFile("/var/lib/mysql/mysql/user.frm", "precious");
  f.PublishSnapshot();
  std::string session = f.HoldLockHere();
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  REQUIRE(f.state().SetBootstrapped().ok());
  f.consul.ClearCalls();

  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(f.runner.calls().empty());
  CHECK(f.consul.calls().empty());
  CHECK(f.fs.Find("/var/lib/mysql/mysql/user.frm")->data == "precious");
  CHECK(f.state().LastRole() == cluster::Role::kPrimary);
  CHECK(f.state().Session() == session);
  CHECK(f.state().Bootstrapped());
}

TEST_CASE("pre_start restores the snapshot named in LAST_BACKUP_KEY into an empty datadir") {
  PreStartFixture f;
  f.PublishSnapshot();
  f.GiveLockTo(kOther);
  f.ScriptRestoreTools("0-2-5");

  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(f.runner.CommandLines() ==
        Strings{std::string("mbstream -x -C ") + kStaging,
                std::string("mariabackup --prepare --target-dir=") + kStaging});
  CHECK(f.runner.calls().at(0).stdin_data == kObject);
  CHECK(f.fs.Find("/var/lib/mysql/mysql/user.frm") != nullptr);
  CHECK_FALSE(f.fs.Exists(kStaging));
  CHECK(f.state().DataOrigin() == cluster::Origin::kSnapshot);
  CHECK(f.state().RestoredGtid() == "0-2-5");  // the prepared backup's own position
  CHECK_FALSE(f.RanProgram("mariadb-install-db"));
}

TEST_CASE("pre_start: a snapshot that fails verification changes nothing") {
  PreStartFixture f;
  f.PublishSnapshot();
  f.store.objects[kBackupId] = "tampered";
  f.ScriptRestoreTools();
  Status s = PreStart(f.deps, {});
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message().find("checksum mismatch") != std::string::npos);
  CHECK_FALSE(f.fs.Exists(kDatadir));
  CHECK(f.state().DataOrigin() == cluster::Origin::kUnknown);
  CHECK(f.state().RestoredGtid().empty());
}

// The restored files are moved into the datadir before the state dir records
// where they came from. If that record cannot be written (disk full after a
// large restore, or the container stops in between), the next start must not
// take the restored data for an existing datadir of unknown origin: health
// would then bootstrap it as a first primary, or replicate into it from the
// primary's first binlog instead of from the snapshot's position.
TEST_CASE("pre_start: a restore whose origin cannot be recorded is not forgotten") {
  PreStartFixture f;
  f.PublishSnapshot();
  f.GiveLockTo(kOther);
  f.ScriptRestoreTools();
  f.ScriptRestoreTools();
  f.fs.FailOn("WriteFileAtomic", f.StatePath("restored-gtid"),
              Status::Unavailable("write: No space left on device"));
  CHECK_FALSE(PreStart(f.deps, {}).ok());

  f.fs.ClearFailures();  // space was freed; the container restarts
  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(f.state().DataOrigin() == cluster::Origin::kSnapshot);
  CHECK(f.state().RestoredGtid() == "0-2-4");
}

TEST_CASE("pre_start with a record but no usable backend fails before touching anything") {
  PreStartFixture f;
  f.PublishSnapshot();
  f.store_unavailable = Status::InvalidArgument("MANTA_USER: not set");
  Status s = PreStart(f.deps, {});
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("'local'") != std::string::npos);
  CHECK(s.message().find("MANTA_USER: not set") != std::string::npos);
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.fs.Exists(kDatadir));
}

TEST_CASE("pre_start waits for a primary's first snapshot, then gives up") {
  PreStartFixture f(Env{{"SNAPSHOT_WAIT_TIMEOUT", "60"}});
  f.GiveLockTo(kOther);
  auto start = f.clock.Monotonic();

  Status s = PreStart(f.deps, {});
  CHECK(s.code() == Code::kDeadlineExceeded);
  CHECK(s.message().find("SNAPSHOT_WAIT_TIMEOUT") != std::string::npos);
  CHECK(s.message().find(kOther) != std::string::npos);
  CHECK(f.clock.Monotonic() - start >= 60s);
  CHECK(f.clock.sleeps().size() > 1);  // it polled
  CHECK(f.runner.calls().empty());     // never half-initialised
  CHECK_FALSE(f.fs.Exists(kDatadir));
  CHECK(f.state().DataOrigin() == cluster::Origin::kUnknown);
  CHECK(f.Logged("waiting for the primary's first snapshot"));
}

TEST_CASE("pre_start restores the first snapshot once it appears") {
  PreStartFixture f(Env{{"SNAPSHOT_WAIT_TIMEOUT", "600"}});
  f.GiveLockTo(kOther);
  f.ScriptRestoreTools();
  HookedClock hooked(&f.clock);
  int polls = 0;
  hooked.on_sleep = [&] {
    if (++polls == 3) f.PublishSnapshot();
  };
  f.deps.clock = &hooked;

  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(polls == 3);
  CHECK(f.state().DataOrigin() == cluster::Origin::kSnapshot);
  CHECK(f.state().RestoredGtid() == "0-2-4");
  CHECK_FALSE(f.RanProgram("mariadb-install-db"));
}

TEST_CASE("pre_start initialises an empty datadir when there is no primary and no snapshot") {
  PreStartFixture f;
  const std::string tz_file = "/tmp/manage-timezones.sql";
  f.runner.Script("mariadb-tzinfo-to-sql", Reply().Stdout("INSERT INTO time_zone_name ...;\n"));
  std::string tz_loaded;
  f.runner.Script("mariadb-install-db", Reply().Effect([&](const auto&) {
    auto sql = f.fs.ReadFile(tz_file);
    tz_loaded = sql.ok() ? *sql : "";
  }));
  REQUIRE(PreStart(f.deps, {}).ok());
  REQUIRE(f.runner.calls().size() == 2);
  CHECK(f.runner.calls()[0].cmd.argv == Strings{"mariadb-tzinfo-to-sql", "/usr/share/zoneinfo"});
  const sys::Command& cmd = f.runner.calls()[1].cmd;
  // Time zones load with the system tables, without binlogs: never replicated.
  CHECK(cmd.argv == Strings{"mariadb-install-db", "--no-defaults", "--datadir=/var/lib/mysql",
                            "--user=mysql", "--auth-root-authentication-method=socket",
                            "--skip-test-db", "--tmpdir=/tmp", "--extra-file=" + tz_file});
  CHECK(tz_loaded == "INSERT INTO time_zone_name ...;\n");
  CHECK_FALSE(f.fs.Exists(tz_file));
  for (const char* secret : {kAppPassword, kReplPassword, kRootPassword}) {
    for (const std::string& a : cmd.argv) CHECK(a.find(secret) == std::string::npos);
    for (const std::string& e : cmd.env) CHECK(e.find(secret) == std::string::npos);
  }
  CHECK(f.runner.calls()[1].stdin_data.empty());
  CHECK(f.fs.IsDirectory(kDatadir));
  CHECK(f.state().DataOrigin() == cluster::Origin::kInit);
}

TEST_CASE("pre_start: a failed mariadb-install-db records no origin") {
  PreStartFixture f;
  f.runner.Script("mariadb-install-db", Reply().Exit(1).Stderr("Installation failed\n"));
  Status s = PreStart(f.deps, {});
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message().find("Installation failed") != std::string::npos);
  CHECK(f.state().DataOrigin() == cluster::Origin::kUnknown);
}

TEST_CASE("pre_start forgets the role and session of a previous datadir") {
  PreStartFixture f;
  std::string session = f.HoldLockHere();
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  REQUIRE(f.state().SetOrigin(cluster::Origin::kSnapshot).ok());
  REQUIRE(f.state().SetBootstrapped().ok());
  REQUIRE(f.state().SetRestoredGtid("0-1-9").ok());
  REQUIRE(f.state().SetServerId(777).ok());

  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK_FALSE(f.consul.SessionExists(session));
  CHECK(f.state().Session().empty());
  CHECK(f.state().LastRole() == cluster::Role::kUnknown);
  CHECK_FALSE(f.state().Bootstrapped());
  CHECK(f.state().RestoredGtid().empty());
  CHECK(f.state().DataOrigin() == cluster::Origin::kInit);  // initialised anew
  CHECK(f.state().ServerId() == 777u);                      // identity is kept
}

TEST_CASE("pre_start empties a datadir a point-in-time restore left unfinished") {
  PreStartFixture f;
  f.fs.AddFile("/var/lib/mysql/mysql/user.frm", "restored, replay cut short");
  REQUIRE(f.state().SetPointInTimeRestore("2026-11-29T14:03:17Z").ok());
  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(f.fs.Find("/var/lib/mysql/mysql/user.frm") == nullptr);
  CHECK(f.state().PointInTimeRestore().empty());
  CHECK(f.RanProgram("mariadb-install-db"));  // no RESTORE_FROM here: a new database
}

TEST_CASE("pre_start with RESTORE_FROM checks RESTORE_TO before touching anything") {
  PreStartFixture f({{"RESTORE_FROM", "orders"}, {"RESTORE_TO", "the day before"}});
  Status st = PreStart(f.deps, {});
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(st.message().find("RESTORE_TO") != std::string::npos);
  CHECK(f.runner.calls().empty());
  CHECK(f.archive_services.empty());
}

TEST_CASE("pre_start with RESTORE_FROM restores only a new cluster's first node") {
  // A snapshot of this cluster exists already: the node joins it as usual.
  PreStartFixture f({{"RESTORE_FROM", "orders"}, {"RESTORE_TO", "0-1-5"}});
  f.PublishSnapshot();
  f.GiveLockTo(kOther);
  f.ScriptRestoreTools();
  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(f.state().DataOrigin() == cluster::Origin::kSnapshot);
  CHECK(f.archive_services.empty());
}

TEST_CASE("pre_start with RESTORE_FROM and an empty archive fails and leaves no data") {
  PreStartFixture f({{"RESTORE_FROM", "orders"}, {"RESTORE_TO", "0-1-5"}});
  Status st = PreStart(f.deps, {});
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("RESTORE_FROM orders") != std::string::npos);
  CHECK(f.archive_services == std::vector<std::string>{"orders"});
  CHECK_FALSE(f.RanProgram("mariadb-install-db"));
  CHECK(f.state().PointInTimeRestore() == "0-1-5");  // the next start discards and retries
}

TEST_CASE("pre_start rejects arguments") {
  PreStartFixture f;
  CHECK(PreStart(f.deps, {"--force"}).code() == Code::kInvalidArgument);
  CHECK_FALSE(f.fs.Exists(f.config.mysql.cnf_path));
}

}  // namespace
}  // namespace manage::hooks

namespace manage::hooks {
namespace {

// An encrypted, compressed snapshot of kObject, as the snapshot hook stores it.
backup::BackupRecord PublishEncrypted(PreStartFixture& f, const backup::BackupKey& key) {
  backup::BackupRecord r = f.PublishSnapshot();
  std::string stored;
  auto sink = backup::SinkTo([&stored](std::string_view chunk) {
    stored.append(chunk);
    return Status::Ok();
  });
  auto encoder = backup::Encoder::Create({3, 0, &key}, sink.get());
  REQUIRE(encoder.ok());
  REQUIRE((*encoder)->input().Write(kObject).ok());
  REQUIRE((*encoder)->input().Close().ok());
  (*encoder)->Describe(&r);
  f.store.objects[kBackupId] = stored;
  REQUIRE(f.consul.Put(f.config.keys.last_backup_key, backup::SerializeBackupRecord(r)).ok());
  return r;
}

TEST_CASE("pre_start restores an encrypted snapshot with the configured key") {
  PreStartFixture f;
  const std::string hex(64, 'e');
  f.config.snapshot.encryption_key = hex;
  PublishEncrypted(f, *backup::ParseBackupKey(hex));
  f.ScriptRestoreTools();
  REQUIRE(PreStart(f.deps, {}).ok());
  CHECK(f.runner.calls().at(0).stdin_data == kObject);  // mbstream got the plain stream
  CHECK(f.state().DataOrigin() == cluster::Origin::kSnapshot);
}

TEST_CASE("pre_start without the snapshot's key fails before touching anything") {
  PreStartFixture f;
  PublishEncrypted(f, *backup::ParseBackupKey(std::string(64, 'e')));
  SECTION("no key configured") {}
  SECTION("another key") { f.config.snapshot.encryption_key = std::string(64, 'f'); }
  Status s = PreStart(f.deps, {});
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message().find("SNAPSHOT_ENCRYPTION_KEY") != std::string::npos);
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.fs.Exists(kDatadir));
  CHECK(f.state().DataOrigin() == cluster::Origin::kUnknown);
}

}  // namespace
}  // namespace manage::hooks
