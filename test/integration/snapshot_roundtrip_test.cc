// Snapshot round trip against real servers: a mariadbd on 127.0.0.8 gets a
// table, TakeSnapshot streams it into a LocalStore, RestoreSnapshot unpacks it
// into a fresh datadir, and a second mariadbd started there must have the same
// rows; the GTID comes back from the restore. Everything lives in one temp dir
// that is removed at the end. Fails when mariadbd or mariabackup is missing.
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "backup/snapshot.h"
#include "storage/local_store.h"
#include "storage/sha256.h"
#include "sys/fs.h"
#include "sys/process.h"

namespace manage::backup {
namespace {

using namespace std::chrono_literals;

// 127.0.0.8, or .8 of the /24 that MANAGE_TEST_NET names (as the harness does).
std::string Address() {
  const char* net = std::getenv("MANAGE_TEST_NET");
  return std::string(net != nullptr && *net != '\0' ? net : "127.0.0") + ".8";
}
// A password that needs every kind of quoting in an option file.
constexpr char kPassword[] = "p#a\"s's w\\rd;x";

bool OnPath(sys::ProcessRunner& runner, const std::string& program) {
  Result<sys::ProcessResult> r = runner.Run({{"sh", "-c", "command -v " + program}, {}, "", 10s});
  return r.ok() && r->exit_code == 0;
}

std::string CurrentUser() {
  passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "root";
}

// One mariadbd with its own datadir and socket, stopped when destroyed.
class Server {
 public:
  Server(sys::ProcessRunner& runner, std::string base, std::string name, int port, int server_id)
      : runner_(runner),
        datadir_(base + "/" + name),
        socket_(base + "/" + name + ".sock"),
        log_(base + "/" + name + ".err"),
        port_(port),
        server_id_(server_id) {}
  ~Server() { Stop(); }

  const std::string& datadir() const { return datadir_; }
  const std::string& socket() const { return socket_; }

  Status Install() {
    Result<sys::ProcessResult> r =
        runner_.Run({{"mariadb-install-db", "--no-defaults", "--datadir=" + datadir_,
                      "--auth-root-authentication-method=normal", "--skip-test-db"},
                     {},
                     "",
                     120s});
    if (!r.ok()) return r.status();
    return sys::CheckExit("mariadb-install-db", *r);
  }

  Status Start() {
    std::vector<std::string> args = {"mariadbd",
                                     "--no-defaults",
                                     "--datadir=" + datadir_,
                                     "--socket=" + socket_,
                                     "--port=" + std::to_string(port_),
                                     "--bind-address=" + Address(),
                                     "--log-bin=mysql-bin",
                                     "--server-id=" + std::to_string(server_id_),
                                     "--log-error=" + log_,
                                     "--pid-file=" + datadir_ + ".pid"};
    if (::geteuid() == 0) args.push_back("--user=root");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int rc = ::posix_spawnp(&pid_, "mariadbd", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return Status::Unavailable("cannot start mariadbd");
    }
    for (auto give_up = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < give_up; std::this_thread::sleep_for(250ms)) {
      Result<std::string> r = Query("SELECT 1");
      if (r.ok() && *r == "1\n") return Status::Ok();
    }
    return Status::DeadlineExceeded("mariadbd did not come up; see " + log_);
  }

  // Runs `sql` as root over the socket; the result rows, tab-separated.
  Result<std::string> Query(const std::string& sql) {
    Result<sys::ProcessResult> r =
        runner_.Run({{"mariadb", "--no-defaults", "--socket=" + socket_, "--user=root", "-N", "-B"},
                     {},
                     "",
                     30s},
                    sql);
    if (!r.ok()) return r.status();
    MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb", *r));
    return r->stdout_data;
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(100ms);
    }
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

 private:
  sys::ProcessRunner& runner_;
  std::string datadir_, socket_, log_;
  int port_, server_id_;
  pid_t pid_ = -1;
};

// A temporary directory removed with everything in it.
struct Scratch {
  sys::RealFileSystem fs;
  std::string path;
  Scratch() {
    std::string tmpl = "/tmp/manage-snapshot-it-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~Scratch() {
    if (!path.empty()) (void)static_cast<sys::FileSystem&>(fs).RemoveAll(path);
  }
};

TEST_CASE("A snapshot taken from one server restores into another", "[integration]") {
  sys::RealProcessRunner runner;
  for (const char* tool : {"mariadbd", "mariadb-install-db", "mariabackup", "mbstream"}) {
    INFO(std::string(tool) + " must be installed (scripts/setup installs it)");
    REQUIRE(OnPath(runner, tool));
  }
  Scratch scratch;
  REQUIRE(!scratch.path.empty());
  sys::FileSystem& fs = scratch.fs;
  storage::LocalStore store(scratch.path + "/store");

  Server primary(runner, scratch.path, "primary", 33307, 1);
  REQUIRE(primary.Install().ok());
  Status started = primary.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  std::string setup =
      "CREATE USER 'bk'@'localhost' IDENTIFIED BY 'p#a\"s\\'s w\\\\rd;x';\n"
      "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'bk'@'localhost';\n"
      "CREATE DATABASE app;\n"
      "CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;\n"
      "USE app;\n"
      "INSERT INTO app.t SELECT seq, CONCAT('row', seq) FROM seq_1_to_1000;\n"
      "FLUSH BINARY LOGS;\n"
      "INSERT INTO app.t VALUES (1001, 'after rotate');\n";
  Result<std::string> ran = primary.Query(setup);
  INFO(ran.status().ToString());
  REQUIRE(ran.ok());
  Result<std::string> gtid = primary.Query("SELECT @@gtid_binlog_pos");
  Result<std::string> master = primary.Query("SHOW MASTER STATUS");
  Result<std::string> rows = primary.Query("SELECT COUNT(*), SUM(id) FROM app.t");
  REQUIRE((gtid.ok() && master.ok() && rows.ok()));
  std::string want_gtid = gtid->substr(0, gtid->find('\n'));
  std::string want_binlog = master->substr(0, master->find('\t'));

  SnapshotOptions options;
  auto now = std::chrono::system_clock::now();
  options.name = *BackupName(kDefaultBackupName, now);
  options.time = now;
  options.credentials = {"bk", kPassword, primary.socket(), "", 0};
  options.work_dir = scratch.path + "/work";
  options.node = "primary";
  options.store = "local";
  Result<BackupRecord> record = TakeSnapshot(runner, fs, store, options);
  INFO(record.status().ToString());
  REQUIRE(record.ok());
  CHECK(record->gtid == want_gtid);
  CHECK(record->binlog == want_binlog);
  CHECK(fs.ListDir(options.work_dir)->empty());  // option file and target dir are gone
  Result<std::vector<storage::ObjectInfo>> listed = store.List("");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].name == options.name);
  CHECK((*listed)[0].size == record->size);
  Result<std::string> stored = fs.ReadFile(scratch.path + "/store/" + options.name);
  REQUIRE(stored.ok());
  CHECK(*storage::Sha256Hex(*stored) == record->sha256);
  primary.Stop();

  // A record whose checksum does not match is refused and leaves no datadir.
  BackupRecord corrupt = *record;
  corrupt.sha256 = std::string(64, '0');
  RestoreOptions to_corrupt;
  to_corrupt.datadir = scratch.path + "/corrupt";
  Result<BinlogPosition> refused = RestoreSnapshot(runner, fs, store, corrupt, to_corrupt);
  CHECK(refused.status().code() == Code::kInternal);
  CHECK(refused.status().message().find("checksum mismatch: expected 0000") != std::string::npos);
  CHECK_FALSE(fs.Exists(to_corrupt.datadir));

  {
    Server replica(runner, scratch.path, "replica", 33308, 2);
    RestoreOptions restore;
    restore.datadir = replica.datadir();
    restore.mysql_user = CurrentUser();
    Result<BinlogPosition> pos = RestoreSnapshot(runner, fs, store, *record, restore);
    INFO(pos.status().ToString());
    REQUIRE(pos.ok());
    CHECK(pos->gtid == want_gtid);
    CHECK(pos->file == want_binlog);
    CHECK_FALSE(fs.Exists(replica.datadir() + "/.restore"));
    Status up = replica.Start();
    INFO(up.ToString());
    REQUIRE(up.ok());
    CHECK(*replica.Query("SELECT COUNT(*), SUM(id) FROM app.t") == *rows);
    CHECK(*replica.Query("SELECT v FROM app.t WHERE id = 1001") == "after rotate\n");
    Result<std::string> slave_pos =
        replica.Query("SET GLOBAL gtid_slave_pos = '" + pos->gtid + "'; SELECT @@gtid_slave_pos");
    REQUIRE(slave_pos.ok());
    CHECK(*slave_pos == want_gtid + "\n");

    // A datadir with data in it is never overwritten.
    Result<BinlogPosition> again = RestoreSnapshot(runner, fs, store, *record, restore);
    CHECK(again.status().code() == Code::kFailedPrecondition);
    replica.Stop();
  }
}

}  // namespace
}  // namespace manage::backup
