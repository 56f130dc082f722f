// pre_start: runs before mysqld starts (ContainerPilot preStart; a failure stops
// the container). It renders my.cnf and prepares the datadir:
//   datadir has data          -> left exactly as it is
//   a snapshot exists         -> restore it (checksum verified before the
//                                datadir is touched); health then replicates
//   a primary exists, no      -> wait for its first snapshot, polling, up to
//   snapshot yet                 SNAPSHOT_WAIT_TIMEOUT; then fail (the
//                                container restarts and tries again)
//   neither, RESTORE_FROM set -> the first node of a new cluster: restore
//                                cluster RESTORE_FROM to RESTORE_TO from the
//                                store alone (its snapshots and binlog
//                                archive); health then bootstraps this node
//                                as the first primary on that data
//   neither                   -> mariadb-install-db; health may then bootstrap
//                                this node as the first primary
// A point-in-time restore cut short (the process died) is never taken for
// data: the next start empties the datadir and restores again.
#include <fmt/format.h>
#include <unistd.h>

#include <ctime>

#include "backup/backup_record.h"
#include "backup/snapshot.h"
#include "cluster/mycnf.h"
#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/backup_access.h"
#include "hooks/hooks.h"
#include "hooks/point_in_time.h"

namespace manage::hooks {
namespace {

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

bool RunningAsRoot() { return ::geteuid() == 0; }

Status RenderMyCnf(Deps& deps, cluster::NodeState& state) {
  const Config& c = *deps.config;
  uint32_t server_id = state.ServerId().value_or(0);
  if (server_id == 0) {
    server_id = cluster::ServerIdFromAddress(c.address);
    MANAGE_RETURN_IF_ERROR(state.SetServerId(server_id));
  }
  auto tmpl = deps.fs->ReadFile(c.mysql.cnf_template);
  if (!tmpl.ok()) return tmpl.status().Annotate("MYSQL_CNF_TEMPLATE");
  auto rendered = cluster::RenderTemplate(*tmpl, cluster::MyCnfVars(c, server_id));
  if (!rendered.ok()) return rendered.status().Annotate(c.mysql.cnf_template);
  MANAGE_RETURN_IF_ERROR(deps.fs->MakeDirs(Dirname(c.mysql.cnf_path), 0755));
  MANAGE_RETURN_IF_ERROR(deps.fs->WriteFileAtomic(c.mysql.cnf_path, *rendered, 0644));
  deps.log.Info("rendered my.cnf",
                {{"path", c.mysql.cnf_path}, {"server_id", std::to_string(server_id)}});
  return Status::Ok();
}

// A datadir that is being created anew must not inherit the role or session of
// whatever data this node had before.
Status ForgetPreviousLife(Deps& deps, cluster::NodeState& state) {
  std::string session = state.Session();
  if (!session.empty()) {
    (void)deps.consul->DestroySession(session);
    MANAGE_RETURN_IF_ERROR(state.ClearSession());
  }
  return state.ForgetData();
}

// The store a new replica will restore from, checked before waiting for a
// snapshot so that a misconfigured store fails at once, not after the wait.
Status CheckStore(const Deps& deps) {
  auto store = deps.open_store();
  if (store.ok()) return Status::Ok();
  return store.status().Annotate(fmt::format(
      "snapshot store '{}' (a new replica is provisioned from it)", deps.config->snapshot.backend));
}

Result<std::optional<backup::BackupRecord>> LastBackup(Deps& deps) {
  auto kv = deps.consul->Get(deps.config->keys.last_backup_key);
  if (!kv.ok()) {
    if (kv.status().code() == Code::kNotFound) return std::optional<backup::BackupRecord>();
    return kv.status();
  }
  if (kv->value.empty()) return std::optional<backup::BackupRecord>();
  auto record = backup::ParseBackupRecord(kv->value);
  if (!record.ok()) return record.status().Annotate(deps.config->keys.last_backup_key);
  return std::optional<backup::BackupRecord>(*record);
}

// Polls LAST_BACKUP_KEY until a snapshot appears or SNAPSHOT_WAIT_TIMEOUT passes.
Result<backup::BackupRecord> WaitForSnapshot(Deps& deps, const std::string& primary) {
  auto timeout = deps.config->snapshot.wait_timeout;
  auto start = deps.clock->Monotonic();
  auto next_log = start;
  while (true) {
    auto last = LastBackup(deps);
    if (last.ok() && last->has_value()) return **last;
    auto now = deps.clock->Monotonic();
    if (now - start >= timeout) {
      return Status::DeadlineExceeded(
          fmt::format("no snapshot after {}s: primary {} has not taken its first snapshot yet "
                      "(SNAPSHOT_WAIT_TIMEOUT)",
                      timeout.count(), primary));
    }
    if (now >= next_log) {
      deps.log.Info(
          "waiting for the primary's first snapshot",
          {{"primary", primary},
           {"waited_s",
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - start).count())},
           {"timeout_s", std::to_string(timeout.count())}});
      next_log = now + std::chrono::seconds(15);
    }
    deps.clock->SleepFor(std::chrono::seconds(2));
  }
}

Status Restore(Deps& deps, cluster::NodeState& state, const backup::BackupRecord& record) {
  const Config& c = *deps.config;
  auto store = deps.open_store();
  if (!store.ok()) {
    return store.status().Annotate(
        fmt::format("snapshot store '{}' (restoring {})", c.snapshot.backend, record.id));
  }
  deps.log.Info("restoring snapshot", {{"id", record.id},
                                       {"gtid", record.gtid},
                                       {"from_node", record.node},
                                       {"store", (*store)->Location()},
                                       {"compression", record.compression},
                                       {"encryption", record.encryption}});
  // Recorded before the files move into the datadir: if this process dies after
  // the move, the next start still knows the data came from this snapshot. A
  // failed restore leaves the datadir empty, and the next start forgets these.
  MANAGE_RETURN_IF_ERROR(state.SetOrigin(cluster::Origin::kSnapshot));
  MANAGE_RETURN_IF_ERROR(state.SetRestoredGtid(record.gtid));
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  backup::RestoreOptions opts;
  opts.datadir = c.mysql.datadir;
  opts.mysql_user = RunningAsRoot() ? c.mysql.os_user : "";
  opts.key = key->has_value() ? &**key : nullptr;
  auto pos = backup::RestoreSnapshot(*deps.runner, *deps.fs, **store, record, opts);
  if (!pos.ok()) {
    // RestoreSnapshot left the datadir as it was: so is the state dir.
    (void)state.ClearOrigin();
    (void)state.ClearRestoredGtid();
    return pos.status().Annotate("restoring " + record.id);
  }
  std::string gtid = pos->gtid.empty() ? record.gtid : pos->gtid;
  if (gtid != record.gtid) MANAGE_RETURN_IF_ERROR(state.SetRestoredGtid(gtid));
  deps.log.Info("restored snapshot", {{"id", record.id}, {"gtid", gtid}});
  return Status::Ok();
}

// The time-zone tables, as SQL for mariadb-install-db's --extra-file.
Result<std::string> TimeZoneSql(Deps& deps) {
  sys::Command dump;
  dump.argv = {"mariadb-tzinfo-to-sql", "/usr/share/zoneinfo"};
  auto sql = deps.runner->Run(dump);
  if (!sql.ok()) return sql.status().Annotate("mariadb-tzinfo-to-sql");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb-tzinfo-to-sql", *sql));
  return sql->stdout_data;
}

// RESTORE_TO is a GTID when it reads D-S-N, else a time.
bool LooksLikeGtid(const std::string& text) {
  return text.find(':') == std::string::npos && archive::ParseGtid(text).ok();
}

Status RestoreNewCluster(Deps& deps, cluster::NodeState& state) {
  const Config& c = *deps.config;
  const std::string& to = c.archive.restore_to;
  auto target = archive::ParseTarget(to, LooksLikeGtid(to));
  if (!target.ok()) return target.status().Annotate("RESTORE_TO");
  auto store = deps.open_store();
  if (!store.ok()) {
    return store.status().Annotate(fmt::format("snapshot store '{}' (restoring {} to {})",
                                               c.snapshot.backend, c.archive.restore_from, to));
  }
  deps.log.Info("no primary and no snapshot: restoring another cluster to a point in time",
                {{"from", c.archive.restore_from}, {"to", target->ToString()}});
  MANAGE_RETURN_IF_ERROR(state.SetPointInTimeRestore(target->ToString()));
  PointInTimeRequest request{c.archive.restore_from, *target, c.mysql.datadir, ""};
  auto done = RestorePointInTime(deps, **store, request);
  if (!done.ok()) return done.status().Annotate("RESTORE_FROM " + c.archive.restore_from);
  MANAGE_RETURN_IF_ERROR(state.SetOrigin(cluster::Origin::kPointInTime));
  return state.ClearPointInTimeRestore();
}

// A point-in-time restore the last start did not finish: its datadir holds a
// snapshot replayed part of the way. Emptied, so that it is restored again.
Status DiscardUnfinishedRestore(Deps& deps, cluster::NodeState& state) {
  const std::string target = state.PointInTimeRestore();
  if (target.empty()) return Status::Ok();
  const std::string& datadir = deps.config->mysql.datadir;
  deps.log.Warn("a point-in-time restore was cut short; starting it again",
                {{"target", target}, {"datadir", datadir}});
  if (deps.fs->Exists(datadir)) {
    auto names = deps.fs->ListDir(datadir);
    if (!names.ok()) return names.status();
    for (const std::string& n : *names) {
      if (n != "lost+found") MANAGE_RETURN_IF_ERROR(deps.fs->RemoveAll(datadir + "/" + n));
    }
  }
  return state.ClearPointInTimeRestore();
}

Status Initialize(Deps& deps, cluster::NodeState& state) {
  const MySqlSettings& m = deps.config->mysql;
  deps.log.Info("no primary and no snapshot: initialising a new database",
                {{"datadir", m.datadir}});
  MANAGE_RETURN_IF_ERROR(deps.fs->MakeDirs(m.datadir, 0750));
  if (RunningAsRoot()) MANAGE_RETURN_IF_ERROR(deps.fs->ChownRecursive(m.datadir, m.os_user));
  // Time zones load with the system tables, on every node that initialises
  // (a restored node has them from its snapshot): thousands of inserts that
  // replication never has to carry, and that a primary killed while loading
  // cannot leave behind as errant transactions.
  auto tz = TimeZoneSql(deps);
  if (!tz.ok()) return tz.status();
  const std::string tz_file = m.tmpdir + "/manage-timezones.sql";
  MANAGE_RETURN_IF_ERROR(deps.fs->WriteFileAtomic(tz_file, *tz, 0644));
  // --no-defaults: the bootstrap must not write binlogs (my.cnf enables them),
  // so every freshly initialised node starts with the same, empty GTID state.
  sys::Command cmd;
  cmd.argv = {"mariadb-install-db",
              "--no-defaults",
              "--datadir=" + m.datadir,
              "--user=" + m.os_user,
              "--auth-root-authentication-method=socket",
              "--skip-test-db",
              "--tmpdir=" + m.tmpdir,
              "--extra-file=" + tz_file};
  auto r = deps.runner->Run(cmd);
  (void)deps.fs->RemoveFile(tz_file);
  if (!r.ok()) return r.status().Annotate("mariadb-install-db");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb-install-db", *r));
  return state.SetOrigin(cluster::Origin::kInit);
}

// ERRANT_POLICY=reclone: the last run found transactions the cluster does not
// have. The datadir is renamed (never deleted) to "<datadir>.errant-<UTC
// time>", so an operator can still recover those writes, and the node is
// provisioned anew from a snapshot. True when it was moved.
Result<bool> MoveDatadirAside(Deps& deps, cluster::NodeState& state) {
  std::string why = state.RecloneRequest();
  if (why.empty()) return false;
  const std::string& datadir = deps.config->mysql.datadir;
  if (deps.fs->Exists(datadir)) {
    std::time_t now = std::chrono::system_clock::to_time_t(deps.clock->Now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::string aside = datadir + ".errant-" + stamp;
    Status moved = deps.fs->Rename(datadir, aside);
    if (!moved.ok()) {
      return moved.Annotate(
          "moving the datadir aside for re-provisioning (it must not be a "
          "mount point itself: mount its parent)");
    }
    deps.log.Warn("moved the datadir aside; provisioning this node anew from a snapshot",
                  {{"moved_to", aside}, {"errant_gtids", why}});
  }
  MANAGE_RETURN_IF_ERROR(state.ClearRecloneRequest());
  return true;
}

Status PrepareEmptyDatadir(Deps& deps, cluster::NodeState& state, bool recloned) {
  MANAGE_RETURN_IF_ERROR(ForgetPreviousLife(deps, state));
  auto last = LastBackup(deps);
  if (!last.ok()) return last.status();
  if (last->has_value()) return Restore(deps, state, **last);
  if (recloned) {
    // Never initialise an empty database in place of one set aside: this
    // node could then bootstrap a second, empty cluster.
    cluster::PrimaryLock lock(deps.config, deps.consul, &state);
    auto view = lock.Read();
    if (!view.ok()) return view.status();
    if (!view->held) {
      return Status::FailedPrecondition(
          "re-provisioning needs a snapshot or a primary to wait for; neither exists yet");
    }
  }
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  if (view->held) {
    MANAGE_RETURN_IF_ERROR(CheckStore(deps));
    auto record = WaitForSnapshot(deps, view->value);
    if (!record.ok()) return record.status();
    return Restore(deps, state, *record);
  }
  if (!deps.config->archive.restore_from.empty()) return RestoreNewCluster(deps, state);
  return Initialize(deps, state);
}

}  // namespace

Status PreStart(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {}));
  const Config& c = *deps.config;
  cluster::NodeState state(deps.fs, c.state_dir);
  MANAGE_RETURN_IF_ERROR(state.EnsureDir());
  std::string run_dir = Dirname(c.mysql.socket);
  MANAGE_RETURN_IF_ERROR(deps.fs->MakeDirs(run_dir, 0755));
  if (RunningAsRoot()) MANAGE_RETURN_IF_ERROR(deps.fs->ChownRecursive(run_dir, c.mysql.os_user));
  MANAGE_RETURN_IF_ERROR(RenderMyCnf(deps, state));
  if (!deps.fs->IsDirectory(c.mysql.tmpdir)) {
    MANAGE_RETURN_IF_ERROR(deps.fs->MakeDirs(c.mysql.tmpdir, 0750));
    if (RunningAsRoot()) {
      MANAGE_RETURN_IF_ERROR(deps.fs->ChownRecursive(c.mysql.tmpdir, c.mysql.os_user));
    }
  }

  MANAGE_RETURN_IF_ERROR(DiscardUnfinishedRestore(deps, state));
  auto recloned = MoveDatadirAside(deps, state);
  if (!recloned.ok()) return recloned.status();
  if (!*recloned && deps.fs->IsDirectory(c.mysql.datadir + "/mysql")) {
    deps.log.Info("existing datadir: left as it is", {{"datadir", c.mysql.datadir}});
    if (RunningAsRoot()) {
      MANAGE_RETURN_IF_ERROR(deps.fs->ChownRecursive(c.mysql.datadir, c.mysql.os_user));
    }
    return Status::Ok();
  }
  return PrepareEmptyDatadir(deps, state, *recloned);
}

}  // namespace manage::hooks
