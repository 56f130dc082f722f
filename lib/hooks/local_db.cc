#include "hooks/local_db.h"

#include <fmt/format.h>

#include "mysql/replica_status.h"

namespace manage::hooks {

Result<LocalDb> ConnectLocal(const Deps& deps, std::chrono::seconds connect_timeout) {
  mysql::ConnectOptions opts;
  opts.socket = deps.config->mysql.socket;
  opts.user = "root";
  opts.connect_timeout = connect_timeout;
  auto conn = deps.connector->Connect(opts);
  if (!conn.ok()) return conn.status().Annotate("connecting to local mysqld");
  auto dialect = mysql::DetectDialect((*conn)->ServerVersion());
  if (!dialect.ok()) return dialect.status();
  if (dialect->flavor != mysql::Flavor::kMariaDb) {
    return Status::FailedPrecondition("mysqld is MySQL " + (*conn)->ServerVersion() +
                                      ": manage runs MariaDB only (10.11 is tested)");
  }
  return LocalDb{std::move(*conn), *dialect};
}

namespace {

// Every client connection except this one, replication threads (so replicas
// keep receiving and acknowledging) and the server's own threads.
constexpr char kClientConnectionsSql[] =
    "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
    "AND USER NOT IN ('system user', 'event_scheduler') "
    "AND COMMAND NOT IN ('Binlog Dump', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker')";

// KILL CONNECTION, not KILL QUERY: a commit waiting for a semi-sync
// acknowledgement that is killed with KILL QUERY returns OK to its client; with
// KILL CONNECTION the client loses the connection and was never told OK.
int KillClientConnections(LocalDb& db) {
  auto ids = db.conn->Query(kClientConnectionsSql);
  if (!ids.ok()) return 0;
  int killed = 0;
  for (size_t i = 0; i < ids->rows.size(); ++i) {
    auto id = ids->Get(i, "ID");
    if (id && db.conn->Execute("KILL CONNECTION " + *id).ok()) ++killed;
  }
  return killed;
}

// Fences a writable server within kFenceBudget (the timing argument counts
// on it). SET GLOBAL read_only waits for commits in progress, and a commit
// waiting for a semi-sync acknowledgement that will never come would hold it
// forever: so clients go first, then read_only without waiting for a lock,
// retried every few ms while the killed sessions go away; clients that
// connected meanwhile go last.
Status Fence(const Deps& deps, LocalDb& db, int* killed) {
  constexpr std::chrono::milliseconds kRetry{20};
  auto deadline = deps.clock->Monotonic() + kFenceBudget;
  MANAGE_RETURN_IF_ERROR(db.conn->Execute("SET SESSION lock_wait_timeout=0"));
  for (;;) {
    *killed += KillClientConnections(db);
    Status set = mysql::SetReadOnly(*db.conn, db.dialect, true);
    if (set.ok()) {
      *killed += KillClientConnections(db);
      return set;
    }
    if (deps.clock->Monotonic() + kRetry >= deadline) {
      return set.Annotate(fmt::format("setting read_only within {} ms", kFenceBudget.count()));
    }
    deps.clock->SleepFor(kRetry);
  }
}

}  // namespace

Status EnsureReadOnly(const Deps& deps, LocalDb& db, bool on, const std::string& why) {
  auto current = mysql::ReadReadOnly(*db.conn);
  if (!current.ok()) return current.status();
  if (*current == on) return Status::Ok();
  if (on) {
    int killed = 0;
    MANAGE_RETURN_IF_ERROR(Fence(deps, db, &killed));
    deps.log.Warn("read_only ON",
                  {{"reason", why}, {"connections_killed", std::to_string(killed)}});
  } else {
    if (deps.may_unfence && !deps.may_unfence()) {
      return Status::DeadlineExceeded("not made writable: this pass was fenced by its watchdog");
    }
    MANAGE_RETURN_IF_ERROR(mysql::SetReadOnly(*db.conn, db.dialect, false));
    deps.log.Info("read_only OFF", {{"reason", why}});
  }
  return Status::Ok();
}

std::string WriteLeaseSql(const std::string& until_sql) {
  // Run by mysqld for each new connection of a user without CONNECTION ADMIN
  // (root has it: manage's own sessions pass): an error ends the connection.
  // Setting sql_mode to a word it does not know is that error.
  return "SET GLOBAL init_connect=CONCAT('SET SESSION sql_mode=IF(@@GLOBAL.read_only OR "
         "@@timestamp < ', " +
         until_sql + ", ', @@SESSION.sql_mode, ''manage-write-lease-expired'')')";
}

Status MakeWritable(const Deps& deps, LocalDb& db, std::chrono::milliseconds lease,
                    const std::string& why) {
  if (deps.may_unfence && !deps.may_unfence()) {
    return Status::DeadlineExceeded("not made writable: this pass was fenced by its watchdog");
  }
  MANAGE_RETURN_IF_ERROR(
      db.conn->Execute(WriteLeaseSql(fmt::format("@@timestamp + {:.3f}", lease.count() / 1000.0))));
  return EnsureReadOnly(deps, db, false, why);
}

mysql::ConnectOptions RemoteOptions(const Config& config, const std::string& host, int port) {
  mysql::ConnectOptions opts;
  opts.host = host;
  opts.port = port;
  opts.user = config.mysql.repl_user;
  opts.password = config.mysql.repl_password;
  opts.connect_timeout = std::chrono::seconds(2);
  opts.read_timeout = std::chrono::seconds(5);
  return opts;
}

}  // namespace manage::hooks
