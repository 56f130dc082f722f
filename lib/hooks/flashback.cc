#include "hooks/flashback.h"

#include <fmt/format.h>

#include <ctime>

#include "cluster/flashback.h"
#include "mysql/replica_status.h"
#include "mysql/replication_sql.h"

namespace manage::hooks {
namespace {

Status CheckBinlogFormat(LocalDb& db) {
  auto r = db.conn->Query("SELECT @@GLOBAL.binlog_format AS f, @@GLOBAL.binlog_row_image AS i");
  if (!r.ok()) return r.status();
  std::string format = r->Get(0, "f").value_or(""), image = r->Get(0, "i").value_or("");
  if (format != "ROW" || image != "FULL") {
    return Status::FailedPrecondition(
        fmt::format("flashback needs binlog_format=ROW and binlog_row_image=FULL, not {} and {}",
                    format, image));
  }
  return Status::Ok();
}

// This node's binlog events, oldest first, from the newest binlog back to the
// first that starts before its history left the cluster's (or the oldest).
Result<std::vector<cluster::BinlogEvent>> ReadBinlogs(LocalDb& db, const cluster::HasGtid& has,
                                                      const std::string& current_pos) {
  auto logs = db.conn->Query("SHOW BINARY LOGS");
  if (!logs.ok()) return logs.status();
  std::vector<std::vector<cluster::BinlogEvent>> files;  // newest first
  for (size_t i = logs->rows.size(); i-- > 0;) {
    std::string name = logs->Get(i, "Log_name").value_or("");
    auto rows = db.conn->Query("SHOW BINLOG EVENTS IN " + mysql::SqlQuote(name));
    if (!rows.ok()) return rows.status();
    std::vector<cluster::BinlogEvent>& file = files.emplace_back();
    bool starts_before = false;
    for (size_t e = 0; e < rows->rows.size(); ++e) {
      file.push_back(
          {name, rows->Get(e, "Event_type").value_or(""), rows->Get(e, "Info").value_or("")});
      if (file.back().type == "Gtid_list") {
        starts_before = cluster::StartsBeforeErrant(file.back().info, has, current_pos);
      }
    }
    if (starts_before) break;
  }
  std::vector<cluster::BinlogEvent> out;
  for (auto it = files.rbegin(); it != files.rend(); ++it)
    out.insert(out.end(), it->begin(), it->end());
  return out;
}

// mariadb-binlog over the planned files and GTIDs; its output.
Result<std::string> Mariadbbinlog(Deps& deps, const cluster::FlashbackPlan& plan,
                                  const std::string& mode) {
  sys::Command cmd;
  cmd.argv = {"mariadb-binlog", "--no-defaults", mode, "--do-domain-ids=" + plan.domains};
  if (!plan.start_position.empty()) cmd.argv.push_back("--start-position=" + plan.start_position);
  for (const std::string& f : plan.files) cmd.argv.push_back(deps.config->mysql.datadir + "/" + f);
  auto r = deps.runner->Run(cmd);
  if (!r.ok()) return r.status().Annotate("mariadb-binlog");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariadb-binlog " + mode, *r));
  return r->stdout_data;
}

std::string Stamp(const Deps& deps) {
  std::time_t now = std::chrono::system_clock::to_time_t(deps.clock->Now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Applies the reverting statements, unlogged: they must not become new
// transactions of this node.
Status Revert(Deps& deps, const std::string& sql) {
  sys::Command apply;
  apply.argv = {"mariadb", "--no-defaults", "--user=root", "--socket=" + deps.config->mysql.socket};
  auto r = deps.runner->Run(apply, "SET SESSION sql_log_bin=0;\n" + sql);
  if (!r.ok()) return r.status().Annotate("applying the flashback");
  return sys::CheckExit("mariadb (flashback)", *r);
}

// The GTID state without the reverted transactions; replication (stopped)
// keeps its source but not its relay log or last error, and starts again
// from the common position.
Status ForgetErrant(LocalDb& db, const std::string& position, bool replica) {
  for (const std::string& sql :
       {std::string("RESET MASTER"), "SET GLOBAL gtid_binlog_state=" + mysql::SqlQuote(position),
        "SET GLOBAL gtid_slave_pos=" + mysql::SqlQuote(position)}) {
    MANAGE_RETURN_IF_ERROR(db.conn->Execute(sql));
  }
  return replica ? db.conn->Execute("RESET SLAVE") : Status::Ok();
}

}  // namespace

Status Flashback(Deps& deps, LocalDb& db, cluster::NodeState& state, const cluster::HasGtid& has) {
  MANAGE_RETURN_IF_ERROR(CheckBinlogFormat(db));
  auto mine = mysql::ReadGtidState(*db.conn, db.dialect);
  if (!mine.ok()) return mine.status();
  auto events = ReadBinlogs(db, has, mine->executed);
  if (!events.ok()) return events.status();
  cluster::FlashbackPlan plan = cluster::PlanFlashback(*events, has, mine->executed);
  if (!plan.why_not.empty()) return Status::FailedPrecondition(plan.why_not);
  auto replica = mysql::ReadReplicaStatus(*db.conn, db.dialect);
  if (!replica.ok()) return replica.status();
  if (replica->configured) {
    MANAGE_RETURN_IF_ERROR(db.conn->Execute(mysql::StopReplicaSql(db.dialect)));
  }
  auto saved = Mariadbbinlog(deps, plan, "--verbose");
  if (!saved.ok()) return saved.status();
  std::string path = state.Path("errant-" + Stamp(deps) + ".sql");
  MANAGE_RETURN_IF_ERROR(deps.fs->WriteFileAtomic(path, *saved, 0600));
  auto reverting = Mariadbbinlog(deps, plan, "--flashback");
  if (!reverting.ok()) return reverting.status();
  MANAGE_RETURN_IF_ERROR(Revert(deps, *reverting));
  MANAGE_RETURN_IF_ERROR(ForgetErrant(db, plan.position, replica->configured));
  deps.log.Warn("errant transactions reverted with flashback",
                {{"errant_gtids", fmt::format("{}", fmt::join(plan.errant, ","))},
                 {"saved_to", path},
                 {"gtid_position", plan.position}});
  return Status::Ok();
}

}  // namespace manage::hooks
