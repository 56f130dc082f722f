// The replay step of a point-in-time restore (archive/pitr.h): a temporary
// mariadbd on the restored datadir, `mariadb-binlog <staged files> | mariadb`,
// then a clean shutdown. And the parsing of an operator's target.
#include <fmt/format.h>
#include <unistd.h>

#include <ctime>

#include "archive/pitr.h"
#include "archive/stage.h"

namespace manage::archive {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{std::chrono::minutes(5)};
constexpr size_t kMaxSocketPath = 100;

struct Server {
  std::string socket;
  std::string error_log;
};

Server ServerFiles(const PointInTimeOptions& o) {
  Server s{o.work_dir + "/mysqld.sock", o.work_dir + "/mysqld.err"};
  // A unix socket path must fit sockaddr_un (108 bytes).
  if (s.socket.size() > kMaxSocketPath) {
    s.socket = fmt::format("/tmp/manage-pitr-{}.sock", static_cast<long>(::getpid()));
  }
  return s;
}

sys::Command ServerCommand(const PointInTimeOptions& o, const Server& s) {
  std::vector<std::string> argv = {
      o.mariadbd, "--no-defaults", "--datadir=" + o.datadir, "--socket=" + s.socket,
      "--skip-networking", "--pid-file=" + o.work_dir + "/mysqld.pid", "--log-error=" + s.error_log,
      "--tmpdir=" + o.work_dir,
      // The same binlog base name as my.cnf's log_bin: a node started on
      // this datadir continues this log.
      "--log-bin=mysql-bin", "--binlog-format=ROW", "--gtid-strict-mode=ON",
      // No flush per replayed commit: a restore that fails is started over,
      // and the clean shutdown at the end makes everything durable.
      "--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0",
      fmt::format("--server-id={}", o.server_id), "--skip-slave-start", "--max-allowed-packet=1G",
      fmt::format("--innodb-buffer-pool-size={}M", o.buffer_pool_mb)};
  if (!o.mysql_user.empty()) argv.push_back("--user=" + o.mysql_user);
  return sys::Command{argv, {}, "", o.timeout};
}

sys::Command ClientCommand(const PointInTimeOptions& o, const Server& s,
                           std::vector<std::string> extra) {
  std::vector<std::string> argv = {o.mariadb,     "--no-defaults",
                                   "--user=root", "--socket=" + s.socket,
                                   "--batch",     "--skip-column-names"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return sys::Command{argv, {}, "", o.timeout};
}

Result<std::string> Sql(sys::ProcessRunner& runner, const PointInTimeOptions& o, const Server& s,
                        const std::string& sql) {
  auto r = runner.Run(ClientCommand(o, s, {"--execute=" + sql}));
  if (!r.ok()) return r.status();
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb", *r));
  std::string out = r->stdout_data;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

Status WaitForServer(sys::ProcessRunner& runner, const PointInTimeOptions& o, const Server& s) {
  const auto deadline = o.clock->Monotonic() + kStartTimeout;
  Status last;
  while (o.clock->Monotonic() < deadline) {
    auto up = Sql(runner, o, s, "SELECT 1");
    if (up.ok()) return Status::Ok();
    last = up.status();
    o.clock->SleepFor(milliseconds(300));
  }
  return Status::DeadlineExceeded("the temporary server did not start: " + last.message());
}

// `mariadb-binlog files... | mariadb`.
Status Pipe(sys::ProcessRunner& runner, const PointInTimeOptions& o, const Server& s,
            const std::vector<Staged>& staged) {
  sys::Command dump{{o.mariadb_binlog, "--no-defaults"}, {}, "", o.timeout};
  for (const Staged& f : staged) dump.argv.push_back(f.path);
  Status dumped = Status::Ok();
  auto applied =
      runner.RunWithWriter(ClientCommand(o, s, {"--binary-mode", "--max-allowed-packet=1G"}),
                           [&](const sys::OutputSink& to_client) {
                             auto r = runner.RunWithOutput(dump, to_client);
                             dumped = r.ok() ? sys::CheckExit("mariadb-binlog", *r) : r.status();
                             return dumped;
                           });
  if (!applied.ok()) return applied.status().Annotate(dumped.ok() ? "mariadb" : dumped.message());
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb (replaying the binlog)", *applied));
  return dumped;
}

}  // namespace

Status Replay(sys::ProcessRunner& runner, sys::FileSystem& fs, const PointInTimeOptions& o,
              const std::string& start_state, const std::vector<Staged>& staged,
              PointInTimeResult* result) {
  const Server s = ServerFiles(o);
  if (!o.mysql_user.empty()) MANAGE_RETURN_IF_ERROR(fs.ChownRecursive(o.work_dir, o.mysql_user));
  for (const Staged& f : staged) {
    result->transactions += f.transactions;
    result->events += f.events;
  }
  auto served = runner.RunWithWriter(ServerCommand(o, s), [&](const sys::OutputSink&) -> Status {
    MANAGE_RETURN_IF_ERROR(WaitForServer(runner, o, s));
    std::string seed = "RESET MASTER";
    if (!start_state.empty()) seed += "; SET GLOBAL gtid_binlog_state = '" + start_state + "'";
    auto seeded = Sql(runner, o, s, seed);
    if (!seeded.ok()) return seeded.status().Annotate("setting the snapshot's GTID state");
    if (o.on_step) {
      o.on_step(fmt::format("replaying {} transactions ({} events)", result->transactions,
                            result->events));
    }
    const auto started = o.clock->Monotonic();
    if (result->transactions > 0) MANAGE_RETURN_IF_ERROR(Pipe(runner, o, s, staged));
    result->replay_time = std::chrono::duration_cast<milliseconds>(o.clock->Monotonic() - started);
    auto pos = Sql(runner, o, s,
                   "SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos; "
                   "SELECT @@GLOBAL.gtid_binlog_pos");
    if (!pos.ok()) return pos.status();
    result->position = *pos;
    return Sql(runner, o, s, "SHUTDOWN").status();
  });
  Status st = served.ok() ? sys::CheckExit("the temporary mariadbd", *served) : served.status();
  if (!st.ok()) {
    auto log = fs.ReadFile(s.error_log);
    if (log.ok() && !log->empty()) {
      std::string tail = log->substr(log->size() > 600 ? log->size() - 600 : 0);
      st = st.Annotate("(its log ends: " + tail + ")");
    }
    return st.Annotate("replaying the archived binlog");
  }
  return Status::Ok();
}

Result<Target> ParseTarget(std::string_view text, bool by_gtid) {
  Target t;
  t.by_gtid = by_gtid;
  if (by_gtid) {
    auto g = ParseGtid(text);
    if (!g.ok() || g->seqno == 0) {
      return Status::InvalidArgument("--to-gtid '" + std::string(text) +
                                     "' is not a GTID domain-server-seqno");
    }
    t.gtid = *g;
    return t;
  }
  const std::string bad = "--to-time '" + std::string(text) +
                          "': want YYYY-MM-DDTHH:MM:SS in UTC (Z or +HH:MM allowed) or @<unix "
                          "seconds>; binlog times have one-second resolution";
  if (!text.empty() && text.front() == '@') {
    auto g = ParseGtid("0-0-" + std::string(text.substr(1)));
    if (!g.ok()) return Status::InvalidArgument(bad);
    t.time = static_cast<int64_t>(g->seqno);
    return t;
  }
  std::tm tm{};
  int consumed = 0;
  char sep = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &sep, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 7 ||
      (sep != 'T' && sep != ' ') || consumed != 19) {
    return Status::InvalidArgument(bad);
  }
  std::string_view zone = text.substr(19);
  int offset = 0;
  if (zone == "Z" || zone.empty() || zone == "+00:00") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int hh = 0, mm = 0;
    if (std::sscanf(std::string(zone.substr(1)).c_str(), "%2d:%2d", &hh, &mm) != 2) {
      return Status::InvalidArgument(bad);
    }
    offset = (zone[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
  } else {
    return Status::InvalidArgument(bad);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return Status::InvalidArgument(bad);
  }
  t.time = static_cast<int64_t>(timegm(&tm)) - offset;
  return t;
}

}  // namespace manage::archive
