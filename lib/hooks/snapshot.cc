// snapshot: runs every SNAPSHOT_INTERVAL on every node (and once, detached,
// right after the first primary bootstraps). Only the node whose session holds
// PRIMARY_KEY acts, and only when a snapshot is due (backup/snapshot_due.h).
//
// Locks: BACKUP_LOCK_KEY is acquired with a session of its own (TTL, no
// lock-delay, Behavior=release) that is renewed while mariabackup streams. If
// this process dies, the session expires and the lock frees itself; no stale
// lock is ever left for an operator to clear. The primary's own session and
// health are untouched: a snapshot can fail, but never makes health fail.
#include "backup/snapshot.h"

#include <fmt/format.h>

#include "backup/backup_record.h"
#include "backup/snapshot_due.h"
#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "hooks/primary.h"

namespace manage::hooks {
namespace {

constexpr std::chrono::seconds kBackupSessionTtl{30};

// Wraps the store so that the backup lock's session is renewed while the
// snapshot streams; a session that cannot be renewed aborts the snapshot.
class RenewingStore final : public storage::ObjectStore {
 public:
  RenewingStore(Deps& deps, std::string session) : deps_(deps), session_(std::move(session)) {
    last_ = deps_.clock->Monotonic();
  }
  Result<std::unique_ptr<storage::ObjectWriter>> Create(const std::string& name) override {
    auto inner = deps_.store->Create(name);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<storage::ObjectWriter>(new Writer(this, std::move(*inner)));
  }
  Status Read(const std::string& name, const sys::OutputSink& sink) override {
    return deps_.store->Read(name, sink);
  }
  Result<std::vector<storage::ObjectInfo>> List() override { return deps_.store->List(); }
  Status Remove(const std::string& name) override { return deps_.store->Remove(name); }

 private:
  class Writer final : public storage::ObjectWriter {
   public:
    Writer(RenewingStore* s, std::unique_ptr<storage::ObjectWriter> inner)
        : store_(s), inner_(std::move(inner)) {}
    Status Write(std::string_view data) override {
      MANAGE_RETURN_IF_ERROR(store_->MaybeRenew());
      return inner_->Write(data);
    }
    Status Commit() override {
      MANAGE_RETURN_IF_ERROR(store_->MaybeRenew());
      return inner_->Commit();
    }
    void Abort() override { inner_->Abort(); }

   private:
    RenewingStore* store_;
    std::unique_ptr<storage::ObjectWriter> inner_;
  };

  Status MaybeRenew() {
    auto now = deps_.clock->Monotonic();
    if (now - last_ < kBackupSessionTtl / 3) return Status::Ok();
    last_ = now;
    return deps_.consul->RenewSession(session_).Annotate("renewing the backup lock session");
  }

  Deps& deps_;
  std::string session_;
  std::chrono::steady_clock::time_point last_;
};

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

Status TakeUnderLock(Deps& deps, const std::string& session, const std::string& binlog) {
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
  RenewingStore store(deps, session);
  deps.log.Info("taking snapshot", {{"id", *name}});
  auto record = backup::TakeSnapshot(*deps.runner, *deps.fs, store, opts);
  if (!record.ok()) return record.status().Annotate("snapshot " + *name);
  MANAGE_RETURN_IF_ERROR(
      deps.consul->Put(c.keys.last_backup_key, backup::SerializeBackupRecord(*record)));
  MANAGE_RETURN_IF_ERROR(
      deps.consul->Put(c.keys.last_binlog_key, record->binlog.empty() ? binlog : record->binlog));
  deps.log.Info("snapshot stored", {{"id", record->id},
                                    {"gtid", record->gtid},
                                    {"size", std::to_string(record->size)},
                                    {"sha256", record->sha256}});
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
  std::string mine = state.Session();
  if (!view->held || mine.empty() || view->holder_session != mine) {
    deps.log.Debug("not the primary: no snapshot");
    return Status::Ok();
  }
  if (!deps.store) {
    return Status::FailedPrecondition(
        fmt::format("snapshot backend '{}' is not available in this build", c.snapshot.backend));
  }
  if (c.mysql.repl_user.empty()) {
    return Status::InvalidArgument("MYSQL_REPL_USER: snapshots run as the replication user");
  }
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  MANAGE_RETURN_IF_ERROR(EnsureTimeZones(deps, *db, state));
  std::string binlog;
  auto due = Due(deps, *db, &binlog);
  if (!due.ok()) return due.status();
  if (!due->due && !HasFlag(args, "--force")) {
    deps.log.Debug("no snapshot due", {{"reason", due->reason}});
    return Status::Ok();
  }
  consul::SessionSpec spec{c.NodeName() + "-backup", kBackupSessionTtl, "release",
                           std::chrono::seconds(0), std::nullopt};
  auto session = deps.consul->CreateSession(spec);
  if (!session.ok()) return session.status().Annotate("creating the backup lock session");
  auto acquired = deps.consul->Acquire(c.keys.backup_lock_key, *session, c.NodeName());
  Status result = Status::Ok();
  if (!acquired.ok()) {
    result = acquired.status();
  } else if (!*acquired) {
    deps.log.Info("another snapshot is running; skipping", {{"key", c.keys.backup_lock_key}});
  } else {
    deps.log.Info("snapshot due", {{"reason", due->reason}});
    result = TakeUnderLock(deps, *session, binlog);
    (void)deps.consul->Release(c.keys.backup_lock_key, *session, "");
  }
  (void)deps.consul->DestroySession(*session);
  return result;
}

}  // namespace manage::hooks
