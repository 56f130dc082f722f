#include "backup/snapshot.h"

#include <catch2/catch.hpp>

#include "fakes/fake_fs.h"
#include "fakes/fake_process.h"
#include "fakes/fake_store.h"
#include "storage/sha256.h"

namespace manage::backup {
namespace {

using sys::FakeFileSystem;
using sys::FakeProcessRunner;
using Reply = FakeProcessRunner::Reply;

constexpr char kPassword[] = "pa ss'\"#word";
constexpr char kStream[] = "XBSTCK01 pretend this is a backup stream of some length";
constexpr char kStderr[] =
    "[00] 2026-11-23 04:34:29 MySQL binlog position: filename 'mysql-bin.000002', "
    "position '551', GTID of the last change '0-1-4'\n"
    "[00] 2026-11-23 04:34:29 completed OK!\n";

struct Fixture {
  FakeFileSystem fs;
  FakeProcessRunner runner;
  storage::FakeStore store;
  SnapshotOptions options;

  Fixture() {
    options.name = "mysql-backup-2026-11-23T04-00-00Z";
    options.time = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'406'400));
    options.credentials = {"repl", kPassword, "/run/mysqld/mysqld.sock", "", 0};
    options.work_dir = "/var/tmp/manage";
    options.node = "db-1";
    options.store = "local";
  }
  Result<BackupRecord> Take() { return TakeSnapshot(runner, fs, store, options); }
  std::string Cnf() const { return options.work_dir + "/" + options.name + ".cnf"; }
  std::string Target() const { return options.work_dir + "/" + options.name + ".tmp"; }
};

TEST_CASE("TakeSnapshot streams mariabackup into the store and records it") {
  Fixture f;
  bool checked = false;
  auto check = [&](const FakeProcessRunner::Call& call) {
    const FakeFileSystem::Node* cnf = f.fs.Find(f.Cnf());
    REQUIRE(cnf != nullptr);
    CHECK(cnf->mode == 0600);
    CHECK(cnf->data.find("user=\"repl\"") != std::string::npos);
    CHECK(f.fs.IsDirectory(f.Target()));
    CHECK(call.cmd.argv[1] == "--defaults-extra-file=" + f.Cnf());
    checked = true;
  };
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr).Effect(check));
  Result<BackupRecord> r = f.Take();
  REQUIRE(r.ok());
  CHECK(checked);
  CHECK(f.runner.CommandLines() ==
        std::vector<std::string>{"mariabackup --defaults-extra-file=" + f.Cnf() +
                                 " --backup --stream=xbstream --target-dir=" + f.Target()});
  CHECK(f.store.commits == 1);
  CHECK(f.store.objects.at(f.options.name) == kStream);
  CHECK(r->id == f.options.name);
  CHECK(r->time == f.options.time);
  CHECK(r->gtid == "0-1-4");
  CHECK(r->binlog == "mysql-bin.000002");
  CHECK(r->size == std::string(kStream).size());
  CHECK(r->sha256 == *storage::Sha256Hex(kStream));
  CHECK(r->node == "db-1");
  CHECK(r->store == "local");
  CHECK_FALSE(f.fs.Exists(f.Cnf()));
  CHECK_FALSE(f.fs.Exists(f.Target()));
}

TEST_CASE("TakeSnapshot never puts the password on the command line or in the environment") {
  Fixture f;
  f.options.extra_args = {"--parallel=2"};
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  REQUIRE(f.Take().ok());
  const sys::Command& cmd = f.runner.calls().at(0).cmd;
  CHECK(cmd.argv.back() == "--parallel=2");
  for (const std::string& s : cmd.argv) CHECK(s.find("pa ss") == std::string::npos);
  for (const std::string& s : cmd.env) CHECK(s.find("pa ss") == std::string::npos);
  CHECK(f.runner.calls().at(0).stdin_data.empty());
}

TEST_CASE("TakeSnapshot aborts the object when anything goes wrong") {
  struct Case {
    const char* what;
    Reply reply;
    Code code;
    std::string message;
  };
  auto c = GENERATE(values<Case>({
      {"mariabackup fails", Reply().Exit(1).Stdout("half").Stderr("oops\n"), Code::kInternal,
       "mariabackup --backup exited 1: oops"},
      {"mariabackup is killed", Reply().Signal(9).Stdout("half"), Code::kInternal,
       "mariabackup --backup killed by signal 9"},
      {"mariabackup is missing",
       Reply().Fail(Status::Unavailable("cannot run 'mariabackup': No such file or directory")),
       Code::kUnavailable,
       "mariabackup --backup: cannot run 'mariabackup': No such file or directory"},
      {"mariabackup times out", Reply().Fail(Status::DeadlineExceeded("too slow")),
       Code::kDeadlineExceeded, "mariabackup --backup: too slow"},
      {"no binlog position", Reply().Stdout(kStream).Stderr("completed OK!\n"), Code::kNotFound,
       "mariabackup did not report a binlog position"},
  }));
  CAPTURE(c.what);
  Fixture f;
  f.runner.Script("mariabackup", c.reply);
  Result<BackupRecord> r = f.Take();
  CHECK(r.status().code() == c.code);
  CHECK(r.status().message() == c.message);
  CHECK(f.store.aborts == 1);
  CHECK(f.store.commits == 0);
  CHECK(f.store.open_writers == 0);
  CHECK(f.store.objects.empty());
  CHECK_FALSE(f.fs.Exists(f.Cnf()));
  CHECK_FALSE(f.fs.Exists(f.Target()));
}

TEST_CASE("TakeSnapshot: a store that cannot take the data stops the backup") {
  Fixture f;
  f.store.write_error = Status::Unavailable("disk full");
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  Result<BackupRecord> r = f.Take();
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == "writing the snapshot: disk full");
  CHECK(f.store.aborts == 1);
  CHECK(f.store.objects.empty());
}

TEST_CASE("TakeSnapshot: a failed commit leaves nothing visible") {
  Fixture f;
  f.store.commit_error = Status::Unavailable("rename failed");
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  Result<BackupRecord> r = f.Take();
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(f.store.objects.empty());
  CHECK(f.store.open_writers == 0);
}

TEST_CASE("TakeSnapshot: a store that cannot create the object runs nothing") {
  Fixture f;
  f.store.create_error = Status::Unavailable("store down");
  CHECK(f.Take().status().code() == Code::kUnavailable);
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.fs.Exists(f.Cnf()));
}

TEST_CASE("TakeSnapshot: the option file must be removed for the snapshot to count") {
  Fixture f;
  f.fs.FailOn("RemoveFile", f.Cnf(), Status::Internal("EIO"));
  f.runner.Script("mariabackup", Reply().Stdout(kStream).Stderr(kStderr));
  Result<BackupRecord> r = f.Take();
  CHECK(r.status().message() == "remove mariabackup option file: EIO");
  CHECK(f.store.objects.empty());
}

TEST_CASE("TakeSnapshot: bad options run nothing") {
  Fixture f;
  SECTION("bad name") { f.options.name = "a/b"; }
  SECTION("no work dir") { f.options.work_dir = ""; }
  SECTION("no user") { f.options.credentials.user = ""; }
  CHECK(f.Take().status().code() == Code::kInvalidArgument);
  CHECK(f.runner.calls().empty());
  CHECK(f.store.commits + f.store.aborts == 0);
}

TEST_CASE("TakeSnapshot: the option file cannot be written") {
  Fixture f;
  f.fs.FailOn("WriteFileAtomic", f.Cnf(), Status::Unavailable("disk full"));
  Result<BackupRecord> r = f.Take();
  CHECK(r.status().message() == "prepare snapshot: disk full");
  CHECK(f.runner.calls().empty());
  CHECK_FALSE(f.fs.Exists(f.Target()));
}

}  // namespace
}  // namespace manage::backup
