#include "hooks/primary.h"

#include <fmt/format.h>

#include "hooks/file_lock.h"
#include "mysql/password.h"
#include "mysql/replica_status.h"
#include "mysql/replication_sql.h"

namespace manage::hooks {
namespace {

using mysql::SqlQuote;

// root@localhost keeps unix_socket (manage's own way in) and gains a password,
// sent as its hash: the statement is binlogged, and so replicated.
Status SetRootPassword(Deps& deps, LocalDb& db, cluster::NodeState& state) {
  const MySqlSettings& m = deps.config->mysql;
  std::string password = m.root_password;
  if (password.empty()) {
    if (!m.random_root_password) return Status::Ok();
    auto random = mysql::RandomPassword(24);
    if (!random.ok()) return random.status().Annotate("generating the root password");
    password = *random;
    std::string path = state.Path("root-password");
    MANAGE_RETURN_IF_ERROR(deps.fs->WriteFileAtomic(path, password + "\n", 0600));
    deps.log.Info("generated a random root password", {{"stored_in", path}});
  }
  deps.log.AddSecret(password);
  auto hash = mysql::NativePasswordHash(password);
  if (!hash.ok()) return hash.status();
  deps.log.AddSecret(*hash);
  std::string sql = fmt::format(
      "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password "
      "USING {}",
      SqlQuote(*hash));
  MANAGE_RETURN_IF_ERROR(db.conn->Execute(sql));
  if (m.onetime_password) {
    MANAGE_RETURN_IF_ERROR(db.conn->Execute("ALTER USER 'root'@'localhost' PASSWORD EXPIRE"));
  }
  return Status::Ok();
}

}  // namespace

Status EnsureTimeZones(Deps& deps, LocalDb& db, cluster::NodeState& state) {
  if (!state.Bootstrapped()) return Status::Ok();  // only for a cluster manage bootstrapped
  FileLock guard(state.Path("timezones.lock"));
  auto count = db.conn->Query("SELECT COUNT(*) AS n FROM mysql.time_zone_name");
  if (!count.ok()) return count.status();
  if (count->Get(0, "n").value_or("0") != "0") return Status::Ok();
  deps.log.Info("loading time zone tables");
  sys::Command dump;
  dump.argv = {"mariadb-tzinfo-to-sql", "/usr/share/zoneinfo"};
  auto sql = deps.runner->Run(dump);
  if (!sql.ok()) return sql.status().Annotate("loading time zones");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb-tzinfo-to-sql", *sql));
  sys::Command load;
  load.argv = {"mariadb", "--no-defaults", "--user=root", "--socket=" + deps.config->mysql.socket,
               "mysql"};
  auto loaded = deps.runner->Run(load, sql->stdout_data);
  if (!loaded.ok()) return loaded.status().Annotate("loading time zones");
  return sys::CheckExit("mariadb (time zones)", *loaded);
}

namespace {

Status Bootstrap(Deps& deps, LocalDb& db, cluster::NodeState& state) {
  deps.log.Info("bootstrapping the first primary");
  auto statements = BootstrapSql(*deps.config);
  if (!statements.ok()) return statements.status();
  for (const std::string& sql : *statements) MANAGE_RETURN_IF_ERROR(db.conn->Execute(sql));
  MANAGE_RETURN_IF_ERROR(SetRootPassword(deps, db, state));
  MANAGE_RETURN_IF_ERROR(state.SetBootstrapped());
  // The first snapshot runs detached: a health pass that outlived the check's
  // TTL would cost this node its lock. (Time zones were loaded by pre_start.)
  deps.log.Info("bootstrap complete; taking the first snapshot",
                {{"log", state.Path("detached.log")}});
  if (deps.spawn_detached) {
    Status s = deps.spawn_detached({"snapshot"});
    if (!s.ok()) deps.log.Warn("could not start the first snapshot", {{"error", s.message()}});
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> BootstrapSql(const Config& config) {
  const MySqlSettings& m = config.mysql;
  auto app_hash = mysql::NativePasswordHash(m.password);
  if (!app_hash.ok()) return app_hash.status();
  auto repl_hash = mysql::NativePasswordHash(m.repl_password);
  if (!repl_hash.ok()) return repl_hash.status();
  std::vector<std::string> out;
  if (!m.database.empty()) {
    out.push_back(fmt::format("CREATE DATABASE IF NOT EXISTS `{}`", m.database));
  }
  if (!m.user.empty()) {
    out.push_back(fmt::format("CREATE USER IF NOT EXISTS {}@'%' IDENTIFIED BY PASSWORD {}",
                              SqlQuote(m.user), SqlQuote(*app_hash)));
    if (!m.database.empty()) {
      out.push_back(
          fmt::format("GRANT ALL PRIVILEGES ON `{}`.* TO {}@'%'", m.database, SqlQuote(m.user)));
    }
  }
  if (!m.repl_user.empty()) {
    out.push_back(fmt::format("CREATE USER IF NOT EXISTS {}@'%' IDENTIFIED BY PASSWORD {}",
                              SqlQuote(m.repl_user), SqlQuote(*repl_hash)));
    // Replication, plus what mariabackup needs for snapshots and what status
    // and failover need to read other nodes' state.
    out.push_back(fmt::format(
        "GRANT REPLICATION SLAVE, SLAVE MONITOR, BINLOG MONITOR, RELOAD, PROCESS, LOCK TABLES, "
        "SELECT ON *.* TO {}@'%'",
        SqlQuote(m.repl_user)));
  }
  return out;
}

Status EnableSemiSync(Deps& deps, LocalDb& db) {
  if (!deps.config->failover.semi_sync) return Status::Ok();
  const auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      deps.config->failover.semi_sync_timeout);
  for (const std::string& sql :
       {std::string("SET GLOBAL rpl_semi_sync_master_wait_point=AFTER_SYNC"),
        fmt::format("SET GLOBAL rpl_semi_sync_master_timeout={}", timeout_ms.count()),
        std::string("SET GLOBAL rpl_semi_sync_master_enabled=ON")}) {
    MANAGE_RETURN_IF_ERROR(db.conn->Execute(sql));
  }
  deps.log.Info("semi-synchronous replication on",
                {{"timeout_s", std::to_string(deps.config->failover.semi_sync_timeout.count())}});
  return Status::Ok();
}

namespace {

// SEMI_SYNC=on: the primary waits for a replica's acknowledgement once one
// replica is connected (a lone first primary has nobody to wait for, and a
// promoted one enables it at promotion). Once on it stays on: with no replica
// acknowledging, commits wait (SEMI_SYNC_TIMEOUT) rather than be acknowledged
// by this node alone. Replicas dump the binlog as MYSQL_REPL_USER; the binlog
// archiver dumps it as root over the socket and acknowledges nothing, so its
// dump is not a replica.
Status EnsureSemiSync(Deps& deps, LocalDb& db) {
  if (!deps.config->failover.semi_sync) return Status::Ok();
  auto r = db.conn->Query(
      "SELECT @@GLOBAL.rpl_semi_sync_master_enabled AS enabled, (SELECT COUNT(*) FROM "
      "information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump' AND USER <> 'root') AS "
      "replicas");
  if (!r.ok()) return r.status();
  if (r->Get(0, "enabled").value_or("0") != "0") return Status::Ok();
  if (r->Get(0, "replicas").value_or("0") == "0") return Status::Ok();
  return EnableSemiSync(deps, db);
}

}  // namespace

Status PrimaryPass(Deps& deps, LocalDb& db, cluster::NodeState& state) {
  if (state.LastRole() != cluster::Role::kPrimary) {
    MANAGE_RETURN_IF_ERROR(state.SetRole(cluster::Role::kPrimary));
  }
  if (!state.Bootstrapped() && state.DataOrigin() != cluster::Origin::kSnapshot) {
    MANAGE_RETURN_IF_ERROR(Bootstrap(deps, db, state));
  }
  MANAGE_RETURN_IF_ERROR(EnsureSemiSync(deps, db));
  return MakeWritable(deps, db, deps.config->WriteLease(), "this node holds the primary lock");
}

Status TryBecomePrimary(Deps& deps, LocalDb& db, cluster::NodeState& state,
                        cluster::PrimaryLock& lock) {
  // The lock is free, so this node holds nothing: whatever it was a moment ago,
  // it must not take writes until it has the lock again.
  MANAGE_RETURN_IF_ERROR(
      EnsureReadOnly(deps, db, true, "fenced: the primary lock is free, this node holds nothing"));
  auto acquired = lock.Acquire();
  if (!acquired.ok()) {
    if (acquired.status().code() == Code::kFailedPrecondition) {
      // Consul ties the session to this node's health check, which exists only
      // after a first passing health pass. Report healthy once so that
      // ContainerPilot registers it; mysqld stays read-only meanwhile.
      deps.log.Info("waiting for this node's health check to register before taking the lock",
                    {{"detail", acquired.status().message()}});
      return Status::Ok();
    }
    return acquired.status();
  }
  if (!*acquired) {
    return Status::Aborted("another node took the primary lock first (or it is in lock-delay)");
  }
  deps.log.Info("acquired the primary lock", {{"key", deps.config->keys.primary_key}});
  return PrimaryPass(deps, db, state);
}

}  // namespace manage::hooks
