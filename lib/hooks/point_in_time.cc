#include "hooks/point_in_time.h"

#include <fmt/format.h>
#include <unistd.h>

#include "archive/chain.h"
#include "archive/plan.h"
#include "archive/segment_io.h"
#include "backup/catalog.h"
#include "cluster/node_state.h"
#include "hooks/backup_access.h"
#include "sys/self_usage.h"

namespace manage::hooks {
namespace {

using archive::GtidText;
using archive::UnixTimeText;

std::string TimeOrEmpty(int64_t t) { return t == 0 ? "" : UnixTimeText(t); }

void FillReport(const archive::Chain& chain, const std::vector<backup::BackupRecord>& snapshots,
                ops::ArchiveReport* r) {
  r->present = !chain.empty() || !chain.unused.empty();
  r->epoch = chain.epoch;
  r->unused = chain.unused.size();
  for (const archive::ChainPart& p : chain.parts) {
    for (const archive::ChainLink& l : p.links) {
      ++r->segments;
      if (l.segment.kind == archive::SegmentKind::kSealed) ++r->sealed;
    }
  }
  if (chain.empty()) return;
  r->head_gtid = GtidText(chain.Head());
  r->head_time = TimeOrEmpty(chain.parts.back().TimeMax());
  const uint32_t domain = chain.parts.front().start.domain_id;
  for (const archive::RecoveryWindow& w :
       archive::RecoveryWindows(chain, archive::SnapshotPoints(snapshots, domain))) {
    r->windows.push_back({w.oldest.id, GtidText(w.oldest.gtid), UnixTimeText(w.oldest.time),
                          GtidText(w.to), TimeOrEmpty(w.to_time), w.snapshots});
  }
  for (const archive::ArchiveGap& g : chain.gaps) {
    r->gaps.push_back({GtidText(g.after), TimeOrEmpty(g.time_after), GtidText(g.before),
                       TimeOrEmpty(g.time_before)});
  }
}

}  // namespace

std::vector<backup::BackupRecord> SnapshotsOf(const Deps& deps,
                                              const std::vector<backup::BackupRecord>& records,
                                              const std::string& service) {
  std::vector<backup::BackupRecord> out;
  for (const backup::BackupRecord& r : records) {
    const bool mine =
        r.service.empty() ? service == deps.config->service_name : r.service == service;
    if (mine) out.push_back(r);
  }
  return out;
}

ops::ArchiveReport ArchiveReportFor(Deps& deps,
                                    const std::vector<backup::BackupRecord>& snapshots) {
  ops::ArchiveReport r;
  auto store = deps.open_archive(deps.config->service_name);
  if (!store.ok()) {
    r.error = store.status().message();
    return r;
  }
  r.location = (*store)->Location();
  auto segments = archive::ListSegments(**store);
  if (!segments.ok()) {
    r.error = segments.status().message();
    return r;
  }
  FillReport(archive::BuildChain(std::move(*segments)),
             SnapshotsOf(deps, snapshots, deps.config->service_name), &r);
  return r;
}

void PruneArchive(Deps& deps, const std::vector<backup::BackupRecord>& kept) {
  if (!deps.open_archive) return;
  auto store = deps.open_archive(deps.config->service_name);
  if (!store.ok()) {
    deps.log.Warn("binlog archive retention skipped", {{"error", store.status().message()}});
    return;
  }
  auto segments = archive::ListSegments(**store);
  if (!segments.ok()) {
    deps.log.Warn("binlog archive retention skipped", {{"error", segments.status().message()}});
    return;
  }
  const archive::Chain chain = archive::BuildChain(std::move(*segments));
  if (chain.empty()) return;
  const uint32_t domain = chain.parts.front().start.domain_id;
  const std::vector<std::string> doomed = archive::SegmentsToDelete(
      chain, archive::SnapshotPoints(SnapshotsOf(deps, kept, deps.config->service_name), domain));
  size_t deleted = 0;
  for (const std::string& name : doomed) {
    Status st = (*store)->Remove(name);
    if (st.ok() || st.code() == Code::kNotFound) {
      ++deleted;
    } else {
      deps.log.Warn("could not delete an old binlog segment",
                    {{"segment", name}, {"error", st.message()}});
    }
  }
  if (deleted > 0) {
    deps.log.Info("deleted binlog segments no kept snapshot needs",
                  {{"segments", std::to_string(deleted)}});
  }
}

Result<archive::PointInTimeResult> RestorePointInTime(Deps& deps, storage::ObjectStore& store,
                                                      const PointInTimeRequest& request) {
  const Config& c = *deps.config;
  auto archive_store = deps.open_archive(request.service);
  if (!archive_store.ok()) return archive_store.status().Annotate("binlog archive");
  auto catalog = backup::ReadCatalog(store);
  if (!catalog.ok()) return catalog.status();
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  cluster::NodeState state(deps.fs, c.state_dir);
  archive::PointInTimeOptions o;
  o.target = request.target;
  o.datadir = request.datadir;
  while (o.datadir.size() > 1 && o.datadir.back() == '/') o.datadir.pop_back();
  o.work_dir = request.work_dir.empty() ? o.datadir + ".pitr" : request.work_dir;
  o.mysql_user = ::geteuid() == 0 ? c.mysql.os_user : "";
  o.key = key->has_value() ? &**key : nullptr;
  o.server_id = state.ServerId().value_or(1);
  o.buffer_pool_mb = c.mysql.buffer_pool_mb;
  o.clock = deps.clock;
  o.on_step = [&deps](const std::string& step) { deps.log.Info(step); };
  auto done = archive::RestoreToPoint(*deps.runner, *deps.fs, store, **archive_store,
                                      SnapshotsOf(deps, catalog->snapshots, request.service), o);
  if (!done.ok()) return done.status();
  const double seconds = std::max<double>(done->replay_time.count(), 1) / 1000.0;
  const sys::SelfUsage usage = sys::ReadSelfUsage();
  deps.log.Info("point-in-time restore done",
                {{"target", request.target.ToString()},
                 {"snapshot", done->snapshot_id},
                 {"snapshot_gtid", done->snapshot_gtid},
                 {"stopped_before", done->stopped_before},
                 {"gtid", done->position},
                 {"segments", std::to_string(done->segments)},
                 {"transactions", std::to_string(done->transactions)},
                 {"events", std::to_string(done->events)},
                 {"replay_ms", std::to_string(done->replay_time.count())},
                 {"events_per_s", fmt::format("{:.0f}", done->events / seconds)},
                 {"cpu_ms", std::to_string(usage.cpu.count())},
                 {"max_rss_kb", std::to_string(usage.max_rss_kb)}});
  return done;
}

}  // namespace manage::hooks
