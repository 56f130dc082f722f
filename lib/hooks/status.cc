// status: one line per ${SERVICE_NAME} node with its role, health, GTID
// position and lag, plus the newest snapshot. Reads each node's mysqld over TCP
// as the replication user (it has SLAVE MONITOR); changes nothing.
#include "hooks/status.h"

#include <cstdio>

#include "backup/backup_record.h"
#include "cluster/primary_lock.h"
#include "core/utc_time.h"
#include "hooks/failover.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "mysql/replica_status.h"
#include "ops/status_report.h"

namespace manage::hooks {
namespace {

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void ReadNode(Deps& deps, ops::NodeRow& row) {
  auto conn = deps.connector->Connect(RemoteOptions(*deps.config, row.address, row.port));
  if (!conn.ok()) {
    row.error = conn.status().message();
    return;
  }
  auto dialect = mysql::DetectDialect((*conn)->ServerVersion());
  if (!dialect.ok()) {
    row.error = dialect.status().message();
    return;
  }
  auto gtid = mysql::ReadGtidState(**conn, *dialect);
  if (gtid.ok()) row.gtid = gtid->executed;
  auto ro = mysql::ReadReadOnly(**conn);
  if (ro.ok()) row.read_only = *ro;
  auto replica = mysql::ReadReplicaStatus(**conn, *dialect);
  if (replica.ok() && replica->configured) {
    if (row.role.empty()) row.role = "replica";
    row.lag_seconds = replica->seconds_behind;
  }
}

std::optional<ops::SnapshotRow> NewestSnapshot(Deps& deps) {
  auto kv = deps.consul->Get(deps.config->keys.last_backup_key);
  if (!kv.ok() || kv->value.empty()) return std::nullopt;
  auto r = backup::ParseBackupRecord(kv->value);
  if (!r.ok()) return std::nullopt;
  return ops::SnapshotRow{r->id,
                          backup::FormatBackupTime(r->time),
                          r->gtid,
                          r->node,
                          r->sha256,
                          r->size,
                          r->raw_size,
                          r->duration_ms,
                          r->compression,
                          r->encryption,
                          UnixSeconds(r->time)};
}

}  // namespace

Result<ops::StatusReport> CollectStatus(Deps& deps) {
  ops::StatusReport report;
  report.service = deps.config->service_name;
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  if (view->held) report.primary = view->value;
  auto instances = deps.consul->Health(deps.config->service_name, false);
  if (!instances.ok()) return instances.status();
  for (const consul::ServiceInstance& i : *instances) {
    ops::NodeRow row;
    row.name = i.id;
    row.address = i.address;
    row.port = i.port;
    row.healthy = i.passing;
    if (i.id == report.primary) row.role = "primary";
    ReadNode(deps, row);
    if (row.role.empty()) row.role = "unassigned";
    report.nodes.push_back(std::move(row));
  }
  report.snapshot = NewestSnapshot(deps);
  auto history = ReadFailoverHistory(deps);
  if (history.ok()) {
    for (const cluster::FailoverEvent& e : *history) {
      ops::HistoryRow h{FormatUtcTime(e.time), e.kind, e.old_primary,      e.new_primary, e.reason,
                        e.duration.count(),    {},     UnixSeconds(e.time)};
      for (const cluster::CandidateRecord& c : e.candidates)
        h.candidates.emplace_back(c.node, c.gtid);
      report.history.push_back(std::move(h));
    }
  }
  return report;
}

Status ShowStatus(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {"--json"}));
  auto report = CollectStatus(deps);
  if (!report.ok()) return report.status();
  std::string out = HasFlag(args, "--json") ? ops::FormatJson(*report) : ops::FormatText(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return Status::Ok();
}

}  // namespace manage::hooks
