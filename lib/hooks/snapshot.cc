// snapshot: runs every SNAPSHOT_INTERVAL on every node (and once, detached,
// right after the first primary bootstraps). Only the node whose session holds
// PRIMARY_KEY acts, and only when a snapshot is due (backup/snapshot_due.h).
//
// Locks and who sees what:
// - BACKUP_LOCK_KEY is acquired with a session of its own (TTL 30 s, no
//   lock-delay, Behavior=release). A keeper thread renews it every 10 s for
//   as long as the upload runs, however slowly parts move. If this process
//   dies, the session expires and the lock frees itself: no stale lock is
//   ever left for an operator to clear. If the session is lost while the
//   upload runs (Consul invalidated it), the keeper raises the store's cancel
//   flag, the transfer stops, and the snapshot is abandoned: another node may
//   already be taking one.
// - The stream becomes visible only when committed, then its manifest is
//   written. LAST_BACKUP_KEY and LAST_BINLOG_KEY are published in one Consul
//   transaction that first checks that this node's session still holds
//   PRIMARY_KEY and the backup session still holds BACKUP_LOCK_KEY: a primary
//   demoted during a long backup (whose data may hold transactions the new
//   primary never had) never replaces the record; its objects are deleted.
// - If this process dies after the commit and before the transaction, the
//   snapshot stays in the store with its manifest but unpublished: a valid
//   snapshot of the primary's data that retention deletes in time.
// - Retention runs after a published snapshot, for snapshots and then for
//   the binlog archive (the segments only deleted snapshots needed). Its
//   failure is logged; the snapshot stands.
// The primary's own session and health are untouched: a snapshot can fail,
// but never makes health fail.
#include "backup/snapshot.h"

#include <fmt/format.h>

#include <set>

#include "backup/backup_record.h"
#include "backup/catalog.h"
#include "backup/retention.h"
#include "backup/snapshot_due.h"
#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/backup_access.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "hooks/point_in_time.h"
#include "hooks/primary.h"
#include "sys/self_usage.h"

namespace manage::hooks {
namespace {

constexpr std::chrono::seconds kBackupSessionTtl{30};

Result<backup::SnapshotDecision> Due(Deps& deps, LocalDb& db, std::string* binlog) {
  const Config& c = *deps.config;
  auto status = db.conn->Query("SHOW MASTER STATUS");
  if (!status.ok()) return status.status();
  *binlog = status->Get(0, "File").value_or("");
  backup::SnapshotInputs in;
  in.is_primary = true;
  in.now = deps.clock->Now();
  in.backup_ttl = c.snapshot.backup_ttl;
  in.current_binlog = *binlog;
  auto last = deps.consul->Get(c.keys.last_backup_key);
  if (last.ok() && !last->value.empty()) {
    auto record = backup::ParseBackupRecord(last->value);
    if (record.ok()) in.last_backup = backup::LastBackup{record->id, record->time};
  } else if (!last.ok() && last.status().code() != Code::kNotFound) {
    return last.status();
  }
  auto last_binlog = deps.consul->Get(c.keys.last_binlog_key);
  if (last_binlog.ok()) in.last_binlog = last_binlog->value;
  return backup::DecideSnapshot(in);
}

// Everything one snapshot run holds.
struct Run {
  storage::ObjectStore* store = nullptr;
  std::string primary_session;  // this node's session on PRIMARY_KEY
  std::string backup_session;   // the session on BACKUP_LOCK_KEY
  std::string binlog;           // current at the start
  const backup::BackupKey* key = nullptr;
};

Result<backup::BackupRecord> Stream(Deps& deps, const Run& run) {
  const Config& c = *deps.config;
  auto now = deps.clock->Now();
  auto name = backup::BackupName(c.snapshot.backup_name, now);
  if (!name.ok()) return name.status().Annotate("BACKUP_NAME");
  backup::SnapshotOptions opts;
  opts.name = *name;
  opts.time = now;
  opts.credentials = {c.mysql.repl_user, c.mysql.repl_password, c.mysql.socket, "", 0};
  opts.work_dir = c.state_dir + "/snapshot";
  opts.node = c.NodeName();
  opts.store = c.snapshot.backend;
  opts.service = c.service_name;
  opts.encoding = SnapshotEncoding(c, run.key);
  Progress progress = ProgressLine(deps, "snapshot " + *name);
  opts.on_progress = progress.update;
  if (deps.store_cancel != nullptr) *deps.store_cancel = false;
  std::unique_ptr<consul::Keeper> keeper;
  if (deps.keep_session) {
    keeper = deps.keep_session(run.backup_session, kBackupSessionTtl, deps.store_cancel);
  }
  deps.log.Info("taking snapshot", {{"id", *name}, {"store", run.store->Location()}});
  const auto started = deps.clock->Monotonic();
  auto record = backup::TakeSnapshot(*deps.runner, *deps.fs, *run.store, opts);
  progress.done();
  if (keeper) keeper->Stop();
  if (keeper && keeper->Lost()) {
    if (record.ok()) (void)backup::DeleteSnapshot(*run.store, record->id);
    return Status::Aborted("the backup lock was lost (" + keeper->LostReason() + "); snapshot " +
                           *name + " abandoned");
  }
  if (!record.ok()) return record.status().Annotate("snapshot " + *name);
  record->duration_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(deps.clock->Monotonic() - started)
          .count());
  return record;
}

// LAST_BACKUP_KEY and LAST_BINLOG_KEY, only while both locks are still ours.
Status Publish(Deps& deps, const Run& run, const backup::BackupRecord& record) {
  const Config& c = *deps.config;
  using Verb = consul::TxnOp::Verb;
  return deps.consul->Txn({
      {Verb::kCheckSession, c.keys.primary_key, "", run.primary_session, 0},
      {Verb::kCheckSession, c.keys.backup_lock_key, "", run.backup_session, 0},
      {Verb::kSet, c.keys.last_backup_key, backup::SerializeBackupRecord(record), "", 0},
      {Verb::kSet, c.keys.last_binlog_key, record.binlog.empty() ? run.binlog : record.binlog, "",
       0},
  });
}

void ApplyRetention(Deps& deps, storage::ObjectStore& store, const std::string& newest) {
  const Config& c = *deps.config;
  auto catalog = backup::ReadCatalog(store);
  if (!catalog.ok()) {
    deps.log.Warn("retention skipped", {{"error", catalog.status().message()}});
    return;
  }
  std::vector<backup::StoredSnapshot> stored;
  for (const backup::BackupRecord& r : catalog->snapshots)
    stored.push_back({r.id, r.time, r.service});
  backup::RetentionPolicy policy{c.snapshot.retain_count, c.snapshot.retain_days};
  std::set<std::string> gone;
  for (const std::string& id :
       backup::SnapshotsToDelete(stored, policy, c.service_name, newest, deps.clock->Now())) {
    Status deleted = backup::DeleteSnapshot(store, id);
    if (deleted.ok()) {
      deps.log.Info("deleted old snapshot", {{"id", id}});
      gone.insert(id);
    } else {
      deps.log.Warn("could not delete old snapshot", {{"id", id}, {"error", deleted.message()}});
    }
  }
  std::vector<backup::BackupRecord> kept;
  for (const backup::BackupRecord& r : catalog->snapshots) {
    if (!gone.count(r.id)) kept.push_back(r);
  }
  PruneArchive(deps, kept);
}

Status TakeUnderLock(Deps& deps, const Run& run) {
  auto record = Stream(deps, run);
  if (!record.ok()) return record.status();
  Status stored = backup::WriteManifest(*run.store, *record);
  if (stored.ok()) stored = Publish(deps, run, *record);
  if (!stored.ok()) {
    (void)backup::DeleteSnapshot(*run.store, record->id);
    if (stored.code() == Code::kAborted) {
      return stored.Annotate("no longer the primary, or the backup lock was lost: snapshot " +
                             record->id + " deleted, not recorded");
    }
    return stored.Annotate("recording snapshot " + record->id);
  }
  // This process's own cost (zstd threads included, mariabackup not).
  const sys::SelfUsage usage = sys::ReadSelfUsage();
  deps.log.Info("snapshot stored", {{"id", record->id},
                                    {"gtid", record->gtid},
                                    {"size", std::to_string(record->size)},
                                    {"raw_size", std::to_string(record->raw_size)},
                                    {"compression", record->compression},
                                    {"encryption", record->encryption},
                                    {"duration_ms", std::to_string(record->duration_ms)},
                                    {"sha256", record->sha256},
                                    {"cpu_ms", std::to_string(usage.cpu.count())},
                                    {"max_rss_kb", std::to_string(usage.max_rss_kb)}});
  if (deps.counters != nullptr) deps.counters->AddSnapshotStored();
  ApplyRetention(deps, *run.store, record->id);
  return Status::Ok();
}

}  // namespace

Status Snapshot(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {"--force"}));
  const Config& c = *deps.config;
  cluster::NodeState state(deps.fs, c.state_dir);
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  Run run;
  run.primary_session = state.Session();
  if (!view->HeldBy(run.primary_session)) {
    deps.log.Debug("not the primary: no snapshot");
    return Status::Ok();
  }
  auto store = deps.open_store();
  if (!store.ok()) {
    return store.status().Annotate(fmt::format("snapshot store '{}'", c.snapshot.backend));
  }
  run.store = *store;
  if (c.mysql.repl_user.empty()) {
    return Status::InvalidArgument("MYSQL_REPL_USER: snapshots run as the replication user");
  }
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  run.key = key->has_value() ? &**key : nullptr;
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  MANAGE_RETURN_IF_ERROR(EnsureTimeZones(deps, *db, state));
  auto due = Due(deps, *db, &run.binlog);
  if (!due.ok()) return due.status();
  if (!due->due && !HasFlag(args, "--force")) {
    deps.log.Debug("no snapshot due", {{"reason", due->reason}});
    return Status::Ok();
  }
  consul::SessionSpec spec{c.NodeName() + "-backup", kBackupSessionTtl, "release",
                           std::chrono::seconds(0), std::nullopt};
  auto session = deps.consul->CreateSession(spec);
  if (!session.ok()) return session.status().Annotate("creating the backup lock session");
  run.backup_session = *session;
  auto acquired = deps.consul->Acquire(c.keys.backup_lock_key, *session, c.NodeName());
  Status result = Status::Ok();
  if (!acquired.ok()) {
    result = acquired.status();
  } else if (!*acquired) {
    deps.log.Info("another snapshot is running; skipping", {{"key", c.keys.backup_lock_key}});
  } else {
    deps.log.Info("snapshot due", {{"reason", due->reason}});
    result = TakeUnderLock(deps, run);
    (void)deps.consul->Release(c.keys.backup_lock_key, *session, "");
  }
  (void)deps.consul->DestroySession(*session);
  return result;
}

}  // namespace manage::hooks
