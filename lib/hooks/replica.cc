#include "hooks/replica.h"

#include <fmt/format.h>

#include "cluster/failover.h"
#include "hooks/file_lock.h"
#include "mysql/replication_sql.h"

namespace manage::hooks {
namespace {

// The errant GTIDs themselves, read from this node's newest binlogs (they are
// the last transactions it wrote as primary); the ranges when the binlogs no
// longer hold them.
std::string ListErrantGtids(LocalDb& db, const std::vector<cluster::ErrantRange>& ranges) {
  auto logs = db.conn->Query("SHOW BINARY LOGS");
  std::vector<std::string> found;
  if (logs.ok()) {
    size_t n = logs->rows.size();
    for (size_t i = n > 3 ? n - 3 : 0; i < n; ++i) {
      auto name = logs->Get(i, "Log_name");
      if (!name) continue;
      auto events = db.conn->Query("SHOW BINLOG EVENTS IN " + mysql::SqlQuote(*name));
      if (!events.ok()) continue;
      for (size_t e = 0; e < events->rows.size(); ++e) {
        auto gtid = cluster::ParseBinlogEventGtid(events->Get(e, "Info").value_or(""));
        if (!gtid) continue;
        for (const cluster::ErrantRange& r : ranges) {
          if (gtid->domain_id == r.domain_id && gtid->server_id == r.server_id &&
              gtid->seqno > r.after_seqno && gtid->seqno <= r.last_seqno) {
            found.push_back(fmt::format("{}-{}-{}", gtid->domain_id, gtid->server_id, gtid->seqno));
          }
        }
      }
    }
  }
  if (found.empty()) return cluster::FormatErrant(ranges);
  std::string out;
  for (const std::string& g : found) out += (out.empty() ? "" : ",") + g;
  return out;
}

// The GTIDs this node has that `source` lacks; "" when none.
Result<std::string> ErrantAgainst(Deps& deps, LocalDb& db, const SourceAddress& source) {
  auto mine = mysql::ReadGtidState(*db.conn, db.dialect);
  if (!mine.ok()) return mine.status();
  if (mine->executed.empty()) return std::string();  // nothing of its own yet
  auto conn = deps.connector->Connect(RemoteOptions(*deps.config, source.host, source.port));
  if (!conn.ok()) return conn.status().Annotate("checking for errant transactions");
  auto theirs = mysql::ReadGtidState(**conn, db.dialect);
  if (!theirs.ok()) return theirs.status();
  if (db.dialect.flavor == mysql::Flavor::kMySql) {
    return mysql::GtidErrant(db.dialect.flavor, mine->executed, theirs->executed);
  }
  auto state = (*conn)->Query("SELECT @@GLOBAL.gtid_binlog_state AS s");
  if (!state.ok()) return state.status();
  auto ranges =
      cluster::FindErrant(mine->executed, theirs->executed, state->Get(0, "s").value_or(""));
  if (!ranges.ok()) return ranges.status();
  if (ranges->empty()) return std::string();
  return ListErrantGtids(db, *ranges);
}

// Refuses to replicate from `source` when this node has transactions it
// lacks (a former primary's writes that never reached the cluster). With
// ERRANT_POLICY=reclone it also asks for a new datadir: mysqld is shut down,
// ContainerPilot stops the container, and the next pre_start moves the datadir
// aside and restores the newest snapshot.
Status RefuseErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                    const SourceAddress& source) {
  auto errant = ErrantAgainst(deps, db, source);
  if (!errant.ok()) return errant.status();
  if (errant->empty()) return Status::Ok();
  bool reclone = deps.config->failover.errant_policy == ErrantPolicy::kReclone;
  deps.log.Error("errant transactions: refusing to replicate",
                 {{"errant_gtids", *errant},
                  {"primary", source.node},
                  {"policy", reclone ? "reclone" : "refuse"}});
  if (reclone) {
    MANAGE_RETURN_IF_ERROR(state.RequestReclone(*errant));
    deps.log.Warn("shutting mysqld down to re-provision this node from a snapshot",
                  {{"datadir", deps.config->mysql.datadir}});
    (void)db.conn->Execute("SHUTDOWN");
  }
  return Status::FailedPrecondition(
      fmt::format("errant transactions {}: this node has transactions {} lacks; refusing to "
                  "replicate (ERRANT_POLICY={})",
                  *errant, source.node, reclone ? "reclone" : "refuse"));
}

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
