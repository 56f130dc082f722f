#include "hooks/replica.h"

#include <fmt/format.h>

#include "hooks/errant.h"
#include "hooks/file_lock.h"
#include "mysql/replication_sql.h"

namespace manage::hooks {
namespace {

Status StartReplica(Deps& deps, LocalDb& db) {
  if (deps.config->failover.semi_sync) {
    // Read when the IO thread starts: set it first.
    MANAGE_RETURN_IF_ERROR(db.conn->Execute("SET GLOBAL rpl_semi_sync_slave_enabled=ON"));
  }
  return db.conn->Execute(mysql::StartReplicaSql(db.dialect));
}

bool PointsAt(const mysql::ReplicaStatus& s, const SourceAddress& src) {
  return s.configured && s.source_host == src.host && s.source_port == src.port;
}

// NodeState's record of the source replication was pointed at.
std::string SourceRecord(const std::string& node, const std::string& host, int port) {
  return fmt::format("{} {}:{}", node, host, port);
}
std::string SourceRecord(const std::string& node, const mysql::ReplicaStatus& s) {
  return s.configured ? SourceRecord(node, s.source_host, s.source_port) : "";
}

Status Reconfigure(Deps& deps, LocalDb& db, cluster::NodeState& state, const SourceAddress& source,
                   const mysql::ReplicaStatus& current) {
  const MySqlSettings& m = deps.config->mysql;
  if (m.repl_user.empty()) {
    return Status::InvalidArgument("MYSQL_REPL_USER: a replica needs the replication user");
  }
  std::string restored = state.RestoredGtid();
  // A restored snapshot cannot hold errant transactions; anything else that is
  // about to follow a (new) source is checked first.
  if (restored.empty()) MANAGE_RETURN_IF_ERROR(RefuseErrant(deps, db, state, source));
  if (current.configured) {
    MANAGE_RETURN_IF_ERROR(db.conn->Execute(mysql::StopReplicaSql(db.dialect)));
  }
  if (restored.empty() && db.dialect.flavor == mysql::Flavor::kMariaDb) {
    // A former primary's gtid_slave_pos is where it stopped replicating before
    // it led; its own later writes are only in its binlog. Replicate from all
    // it has (the errant check above proved the source has it too): a source
    // restored from a snapshot since may no longer hold that old position.
    auto gtid = mysql::ReadGtidState(*db.conn, db.dialect);
    if (!gtid.ok()) return gtid.status();
    if (!gtid->executed.empty() && gtid->executed != gtid->slave_pos) {
      auto stmts = mysql::SetGtidPositionSql(db.dialect, gtid->executed);
      if (!stmts.ok()) return stmts.status();
      for (const std::string& sql : *stmts) MANAGE_RETURN_IF_ERROR(db.conn->Execute(sql));
    }
  }
  if (deps.config->failover.semi_sync) {
    MANAGE_RETURN_IF_ERROR(db.conn->Execute("SET GLOBAL rpl_semi_sync_master_enabled=OFF"));
  }
  if (!restored.empty()) {
    if (db.dialect.flavor == mysql::Flavor::kMariaDb) {
      // The binlog starts right after the snapshot, and says so: a node that
      // later restores the same snapshot can replicate from this one once it
      // leads (MariaDB looks for the requested GTID in the binlog state and
      // the binlogs; without this its binlog state would start empty).
      MANAGE_RETURN_IF_ERROR(db.conn->Execute("RESET MASTER"));
      MANAGE_RETURN_IF_ERROR(
          db.conn->Execute("SET GLOBAL gtid_binlog_state=" + mysql::SqlQuote(restored)));
    }
    auto stmts = mysql::SetGtidPositionSql(db.dialect, restored);
    if (!stmts.ok()) return stmts.status().Annotate("restored GTID position");
    for (const std::string& sql : *stmts) MANAGE_RETURN_IF_ERROR(db.conn->Execute(sql));
    // The server keeps the position now (mysql.gtid_slave_pos); forget it here
    // so that a later repoint can never rewind the replica to the snapshot.
    MANAGE_RETURN_IF_ERROR(state.ClearRestoredGtid());
  }
  mysql::ReplicationSource src{source.host, source.port, m.repl_user, m.repl_password};
  auto change = mysql::ChangeSourceSql(db.dialect, src);
  if (!change.ok()) return change.status();
  MANAGE_RETURN_IF_ERROR(db.conn->Execute(*change));
  MANAGE_RETURN_IF_ERROR(StartReplica(deps, db));
  deps.log.Info("replicating", {{"primary", source.node},
                                {"source", fmt::format("{}:{}", source.host, source.port)},
                                {"from_gtid", restored.empty() ? "(own state)" : restored}});
  return Status::Ok();
}

}  // namespace

Result<SourceAddress> FindNode(Deps& deps, const std::string& node) {
  auto instances = deps.consul->Health(deps.config->service_name, false);
  if (!instances.ok()) return instances.status();
  for (const consul::ServiceInstance& i : *instances) {
    if (i.id == node) return SourceAddress{node, i.address, i.port};
  }
  return Status::NotFound(fmt::format("node {} is not registered in Consul", node));
}

Status EnsureReplicatingFrom(Deps& deps, LocalDb& db, cluster::NodeState& state,
                             const SourceAddress& source) {
  // health and on_change never reconfigure replication at once.
  FileLock guard(state.Path("replication.lock"));
  if (!guard.ok()) return Status::Internal("cannot open the replication lock file");
  // A node about to follow another must not take writes, whoever calls this.
  MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, db, true, "replica of " + source.node));
  // Re-read under the lock: another hook may have just done the work.
  auto current = mysql::ReadReplicaStatus(*db.conn, db.dialect);
  if (!current.ok()) return current.status();
  if (state.LastRole() != cluster::Role::kReplica) {
    MANAGE_RETURN_IF_ERROR(state.SetRole(cluster::Role::kReplica));
  }
  if (PointsAt(*current, source)) {
    (void)state.SetReplicationSource(SourceRecord(source.node, source.host, source.port));
    // Right source; start threads that are down without an error (after a
    // restart, mysqld boots with skip_slave_start).
    bool stopped = current->io_running == mysql::ThreadState::kNo &&
                   current->sql_running == mysql::ThreadState::kNo;
    if (stopped && current->last_io_errno == 0 && current->last_sql_errno == 0) {
      deps.log.Info("starting replication", {{"primary", source.node}});
      return StartReplica(deps, db);
    }
    return Status::Ok();
  }
  MANAGE_RETURN_IF_ERROR(Reconfigure(deps, db, state, source, *current));
  return state.SetReplicationSource(SourceRecord(source.node, source.host, source.port));
}

Status ReplicaPass(Deps& deps, LocalDb& db, cluster::NodeState& state,
                   const std::string& primary_node, const mysql::ReplicaStatus& status) {
  MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, db, true, "replica of " + primary_node));
  // Steady state: replication runs from the address this node looked up for
  // the lock holder last time. Consul is asked again only when that changes
  // or replication stopped (the primary may have come back elsewhere).
  const std::string recorded = state.ReplicationSource();
  if (status.Running() && !recorded.empty() && recorded == SourceRecord(primary_node, status)) {
    return CheckReplicaHealth(deps, status);
  }
  auto source = FindNode(deps, primary_node);
  if (!source.ok()) return source.status().Annotate("finding the primary");
  if (!PointsAt(status, *source) || !status.Running()) {
    MANAGE_RETURN_IF_ERROR(EnsureReplicatingFrom(deps, db, state, *source));
    auto fresh = mysql::ReadReplicaStatus(*db.conn, db.dialect);
    if (!fresh.ok()) return fresh.status();
    return CheckReplicaHealth(deps, *fresh);
  }
  (void)state.SetReplicationSource(SourceRecord(primary_node, status));
  return CheckReplicaHealth(deps, status);
}

namespace {

// The IO thread is retrying a source it cannot reach (the primary died or is
// unreachable): the data is consistent, only possibly behind. Such a replica
// stays healthy, so that it remains a failover candidate.
bool ReconnectingToSource(const mysql::ReplicaStatus& s) {
  return s.io_running == mysql::ThreadState::kConnecting &&
         s.sql_running == mysql::ThreadState::kYes && s.last_sql_errno == 0 &&
         (s.last_io_errno == 0 || s.last_io_errno == 2003 || s.last_io_errno == 2013);
}

}  // namespace

Status CheckReplicaHealth(const Deps& deps, const mysql::ReplicaStatus& s) {
  if (!s.configured) return Status::FailedPrecondition("replication is not configured");
  if (ReconnectingToSource(s)) return Status::Ok();
  if (!s.Running()) {
    std::string why =
        fmt::format("replication is not running (IO thread {}, SQL thread {})",
                    mysql::ThreadStateName(s.io_running), mysql::ThreadStateName(s.sql_running));
    if (s.last_io_errno != 0 || !s.last_io_error.empty()) {
      why += fmt::format("; IO error {}: {}", s.last_io_errno, s.last_io_error);
    }
    if (s.last_sql_errno != 0 || !s.last_sql_error.empty()) {
      why += fmt::format("; SQL error {}: {}", s.last_sql_errno, s.last_sql_error);
    }
    return Status::FailedPrecondition(why);
  }
  int64_t max_lag = deps.config->max_replica_lag.count();
  if (!s.seconds_behind) {
    return Status::FailedPrecondition("replica lag is unknown (Seconds_Behind_Master is NULL)");
  }
  if (*s.seconds_behind > max_lag) {
    return Status::FailedPrecondition(
        fmt::format("replica lag {}s exceeds MAX_REPLICA_LAG={}s", *s.seconds_behind, max_lag));
  }
  return Status::Ok();
}

}  // namespace manage::hooks
