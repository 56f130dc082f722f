#include <catch2/catch.hpp>

#include "backup/snapshot.h"
#include "fakes/fake_fs.h"
#include "fakes/fake_process.h"
#include "fakes/fake_store.h"
#include "storage/sha256.h"

namespace manage::backup {
namespace {

using sys::FakeFileSystem;
using sys::FakeProcessRunner;
using Call = FakeProcessRunner::Call;
using Reply = FakeProcessRunner::Reply;

constexpr char kObject[] = "XBSTCK01 the bytes of a backup stream";
constexpr char kDatadir[] = "/var/lib/mysql";
constexpr char kStaging[] = "/var/lib/mysql/.restore";

struct Fixture {
  FakeFileSystem fs;
  FakeProcessRunner runner;
  storage::FakeStore store;
  BackupRecord record;
  RestoreOptions options;

  Fixture() {
    fs.AddDir("/var/lib");
    store.objects["b1"] = kObject;
    record.id = "b1";
    record.sha256 = *storage::Sha256Hex(kObject);
    record.size = std::string(kObject).size();
    record.gtid = "0-1-4";
    record.binlog = "mysql-bin.000002";
    options.datadir = kDatadir;
    options.mysql_user = "mysql";
  }
  // mbstream unpacks into the directory after -C; --prepare adds the binlog info.
  void ScriptTools(const char* info_file = "xtrabackup_binlog_info") {
    runner.Script("mbstream", Reply().Effect([this](const Call& call) {
      const std::string& dir = call.cmd.argv.at(3);
      fs.AddFile(dir + "/ibdata1", "innodb");
      fs.AddFile(dir + "/mysql/user.frm", "frm");
      fs.AddFile(dir + "/xtrabackup_checkpoints", "lsn");
    }));
    runner.Script("mariabackup", Reply().Effect([this, info_file](const Call& call) {
      std::string dir = call.cmd.argv.at(2).substr(std::string("--target-dir=").size());
      if (*info_file) fs.AddFile(dir + "/" + info_file, "mysql-bin.000002\t551\t0-1-4\n");
    }));
  }
  Result<BinlogPosition> Restore() { return RestoreSnapshot(runner, fs, store, record, options); }
  std::vector<std::string> Datadir() const {
    Result<std::vector<std::string>> names = fs.ListDir(kDatadir);
    return names.ok() ? *names : std::vector<std::string>{"<missing>"};
  }
};

TEST_CASE("RestoreSnapshot unpacks, verifies, prepares and moves into a new datadir") {
  Fixture f;
  f.ScriptTools();
  Result<BinlogPosition> pos = f.Restore();
  REQUIRE(pos.ok());
  CHECK(pos->file == "mysql-bin.000002");
  CHECK(pos->position == 551);
  CHECK(pos->gtid == "0-1-4");
  CHECK(f.runner.CommandLines() ==
        std::vector<std::string>{std::string("mbstream -x -C ") + kStaging,
                                 std::string("mariabackup --prepare --target-dir=") + kStaging});
  CHECK(f.runner.calls()[0].stdin_data == kObject);
  CHECK(f.Datadir() == std::vector<std::string>{"ibdata1", "mysql", "xtrabackup_binlog_info",
                                                "xtrabackup_checkpoints"});
  CHECK(f.fs.Find("/var/lib/mysql/mysql/user.frm")->owner == "mysql");
  CHECK(f.fs.Find(kDatadir)->owner == "mysql");
  CHECK_FALSE(f.fs.Exists(kStaging));
}

TEST_CASE("RestoreSnapshot accepts an empty datadir and clears a stale staging dir") {
  Fixture f;
  f.fs.AddDir("/var/lib/mysql/lost+found");
  f.fs.AddFile("/var/lib/mysql/.restore/junk-from-a-crash", "x");
  f.ScriptTools();
  REQUIRE(f.Restore().ok());
  CHECK_FALSE(f.fs.Exists("/var/lib/mysql/junk-from-a-crash"));
  CHECK(f.Datadir() == std::vector<std::string>{"ibdata1", "lost+found", "mysql",
                                                "xtrabackup_binlog_info",
                                                "xtrabackup_checkpoints"});
}

TEST_CASE("RestoreSnapshot reads the newer binlog info name, else the record") {
  Fixture f;
  SECTION("mariadb_backup_binlog_info") {
    f.ScriptTools("mariadb_backup_binlog_info");
    Result<BinlogPosition> pos = f.Restore();
    REQUIRE(pos.ok());
    CHECK(pos->position == 551);
  }
  SECTION("no binlog info file") {
    f.ScriptTools("");
    f.record.gtid = "0-1-3";
    Result<BinlogPosition> pos = f.Restore();
    REQUIRE(pos.ok());
    CHECK(pos->gtid == "0-1-3");
    CHECK(pos->file == "mysql-bin.000002");
  }
}

TEST_CASE("RestoreSnapshot with a work dir outside the datadir") {
  Fixture f;
  f.options.work_dir = "/var/lib/mysql-restore";
  f.ScriptTools();
  REQUIRE(f.Restore().ok());
  CHECK(f.runner.CommandLines().at(0) == "mbstream -x -C /var/lib/mysql-restore");
  CHECK(f.fs.Find("/var/lib/mysql/ibdata1")->owner == "mysql");
  CHECK_FALSE(f.fs.Exists("/var/lib/mysql-restore"));
}

TEST_CASE("RestoreSnapshot never touches a datadir with data in it") {
  Fixture f;
  f.fs.AddFile("/var/lib/mysql/mysql/user.frm", "precious");
  f.ScriptTools();
  Result<BinlogPosition> pos = f.Restore();
  CHECK(pos.status().code() == Code::kFailedPrecondition);
  CHECK(pos.status().message() ==
        "datadir /var/lib/mysql is not empty (it has 'mysql'); refusing to restore over "
        "existing data");
  CHECK(f.runner.calls().empty());
  CHECK(f.fs.Find("/var/lib/mysql/mysql/user.frm")->data == "precious");
  CHECK(f.Datadir() == std::vector<std::string>{"mysql"});
}

TEST_CASE("RestoreSnapshot: a checksum mismatch fails before prepare and cleans up") {
  Fixture f;
  f.record.sha256 = std::string(64, '0');
  f.ScriptTools();
  SECTION("datadir absent") {
    Result<BinlogPosition> pos = f.Restore();
    CHECK(pos.status().code() == Code::kInternal);
    CHECK(pos.status().message() == "restore b1 into /var/lib/mysql: checksum mismatch: expected " +
                                        std::string(64, '0') + " got " +
                                        *storage::Sha256Hex(kObject));
    CHECK_FALSE(f.fs.Exists(kDatadir));
  }
  SECTION("datadir empty") {
    f.fs.AddDir(kDatadir);
    CHECK(f.Restore().status().code() == Code::kInternal);
    CHECK(f.Datadir().empty());
  }
  CHECK(f.runner.CommandLines().size() == 1);  // no --prepare
}

TEST_CASE("RestoreSnapshot: a size mismatch is caught without a checksum") {
  Fixture f;
  f.record.sha256 = "";
  f.record.size = 5;
  f.ScriptTools();
  CHECK(f.Restore().status().message() ==
        "restore b1 into /var/lib/mysql: size mismatch: expected 5 got " +
            std::to_string(std::string(kObject).size()));
  CHECK_FALSE(f.fs.Exists(kDatadir));
}

TEST_CASE("RestoreSnapshot: tool and store failures leave the datadir as it was") {
  Fixture f;
  f.fs.AddDir(kDatadir);
  std::string want;
  SECTION("mbstream fails") {
    f.runner.Script("mbstream", Reply().Exit(1).Stderr("bad header\n"));
    want = "mbstream -x exited 1: bad header";
  }
  SECTION("mbstream stops reading") {
    f.runner.Script("mbstream", Reply().Exit(2).ReadLimit(4));
    want = "mbstream -x exited 2";
  }
  SECTION("mbstream stops reading but exits 0") {
    f.runner.Script("mbstream", Reply().ReadLimit(4));
    want = "read the snapshot: 'mbstream' stopped reading its input";
  }
  SECTION("mbstream cannot run") {
    f.runner.Script("mbstream", Reply().Fail(Status::Unavailable("cannot run 'mbstream'")));
    want = "mbstream -x: cannot run 'mbstream'";
  }
  SECTION("store read fails") {
    f.store.read_error = Status::Unavailable("connection reset");
    want = "read the snapshot: connection reset";
  }
  SECTION("object missing") {
    f.record.id = "b2";
    want = "read the snapshot: no object b2";
  }
  SECTION("prepare fails") {
    f.runner.Script("mbstream", Reply().Effect([&f](const Call&) {
      f.fs.AddFile(std::string(kStaging) + "/ibdata1", "x");
    }));
    f.runner.Script("mariabackup", Reply().Exit(1).Stderr("redo log corrupt\n"));
    want = "mariabackup --prepare exited 1: redo log corrupt";
  }
  SECTION("chown fails") {
    f.ScriptTools();
    f.options.mysql_user = "nosuchuser";
    want = "no user named 'nosuchuser'";
  }
  SECTION("a move fails half way") {
    f.ScriptTools();
    f.fs.FailOn("Rename", std::string(kStaging) + "/mysql", Status::Internal("EIO"));
    want = "move restored files into /var/lib/mysql: EIO";
  }
  Result<BinlogPosition> pos = f.Restore();
  CHECK_FALSE(pos.ok());
  CHECK(pos.status().message() == "restore " + f.record.id + " into /var/lib/mysql: " + want);
  CHECK(f.Datadir().empty());
}

TEST_CASE("RestoreSnapshot rejects bad options") {
  Fixture f;
  SECTION("relative datadir") { f.options.datadir = "var/lib/mysql"; }
  SECTION("work dir is the datadir") { f.options.work_dir = kDatadir; }
  SECTION("bad object name") { f.record.id = "../x"; }
  CHECK(f.Restore().status().code() == Code::kInvalidArgument);
  CHECK(f.runner.calls().empty());
}

}  // namespace
}  // namespace manage::backup

namespace manage::backup {
namespace {

// TakeSnapshot and RestoreSnapshot meet through the store: what mariabackup
// wrote is what mbstream reads, whatever encoding lies between.
TEST_CASE("A compressed, encrypted snapshot round-trips through the store") {
  const BackupKey key = *ParseBackupKey(std::string(64, '7'));
  std::string stream;
  for (int i = 0; i < 5000; ++i) stream += "XBSTCK01 row " + std::to_string(i % 50) + "\n";
  struct Row {
    int level;
    const BackupKey* key;
    std::string compression, encryption;
  };
  const Row rows[] = {{0, nullptr, "none", "none"},
                      {3, nullptr, "zstd", "none"},
                      {0, &key, "none", "aes-256-gcm"},
                      {3, &key, "zstd", "aes-256-gcm"}};
  for (const Row& row : rows) {
    INFO(row.compression << " " << row.encryption);
    FakeFileSystem fs;
    FakeProcessRunner runner;
    storage::FakeStore store;
    SnapshotOptions take;
    take.name = "b1";
    take.credentials = {"repl", "pw", "/run/mysqld/mysqld.sock", "", 0};
    take.work_dir = "/var/tmp/manage";
    take.service = "mysql";
    take.encoding = {row.level, 0, row.key};
    uint64_t progress = 0;
    take.on_progress = [&progress](uint64_t raw) { progress = raw; };
    runner.Script("mariabackup",
                  Reply().Stdout(stream).Stderr(
                      "MySQL binlog position: filename 'mysql-bin.000002', position '551', GTID "
                      "of the last change '0-1-4'\ncompleted OK!\n"));
    Result<BackupRecord> record = TakeSnapshot(runner, fs, store, take);
    REQUIRE(record.ok());
    CHECK(record->compression == row.compression);
    CHECK(record->encryption == row.encryption);
    CHECK(record->key_id == (row.key ? key.id : ""));
    CHECK(record->raw_size == stream.size());
    CHECK(progress == stream.size());
    CHECK(record->service == "mysql");
    const std::string stored = store.objects.at("b1");
    CHECK(record->size == stored.size());
    CHECK(record->sha256 == *storage::Sha256Hex(stored));
    if (row.level > 0) CHECK(stored.size() < stream.size() / 5);
    if (row.key != nullptr) CHECK(stored.find("XBSTCK01 row") == std::string::npos);

    fs.AddDir("/var/lib");
    runner.Script("mbstream", Reply());
    runner.Script("mariabackup", Reply());
    RestoreOptions restore;
    restore.datadir = kDatadir;
    restore.key = row.key;
    Result<BinlogPosition> pos = RestoreSnapshot(runner, fs, store, *record, restore);
    REQUIRE(pos.ok());
    CHECK(runner.calls().at(1).stdin_data == stream);
  }
}

TEST_CASE("An encrypted snapshot is refused before anything is touched without its key") {
  const BackupKey right = *ParseBackupKey(std::string(64, '1'));
  const BackupKey wrong = *ParseBackupKey(std::string(64, '2'));
  Fixture f;
  f.record.encryption = "aes-256-gcm";
  f.record.key_id = right.id;
  SECTION("no key") {
    Result<BinlogPosition> pos = f.Restore();
    CHECK(pos.status().code() == Code::kFailedPrecondition);
    CHECK(pos.status().message().find("SNAPSHOT_ENCRYPTION_KEY") != std::string::npos);
    CHECK(pos.status().message().find(right.id) != std::string::npos);
  }
  SECTION("another key") {
    f.options.key = &wrong;
    Result<BinlogPosition> pos = f.Restore();
    CHECK(pos.status().code() == Code::kFailedPrecondition);
    CHECK(pos.status().message().find(wrong.id) != std::string::npos);
  }
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.fs.Exists(kDatadir));
}

TEST_CASE("A tampered encrypted snapshot fails and leaves no datadir") {
  const BackupKey key = *ParseBackupKey(std::string(64, '3'));
  Fixture f;
  // Encrypt kObject the way TakeSnapshot would, then flip one stored byte.
  std::string sealed;
  std::unique_ptr<ByteSink> out = SinkTo([&sealed](std::string_view chunk) {
    sealed.append(chunk);
    return Status::Ok();
  });
  auto enc = Encoder::Create({0, 0, &key}, out.get());
  REQUIRE(enc.ok());
  REQUIRE((*enc)->input().Write(kObject).ok());
  REQUIRE((*enc)->input().Close().ok());
  (*enc)->Describe(&f.record);
  sealed[kCryptHeaderBytes + 6] ^= 0x20;
  f.store.objects["b1"] = sealed;
  f.options.key = &key;
  f.runner.Script("mbstream", Reply());
  Result<BinlogPosition> pos = f.Restore();
  CHECK(pos.status().code() == Code::kInternal);
  CHECK(pos.status().message().find("tampered") != std::string::npos);
  CHECK(f.runner.calls().at(0).stdin_data.empty());  // not one byte reached mbstream
  CHECK_FALSE(f.fs.Exists(kDatadir));
}

}  // namespace
}  // namespace manage::backup
