#include "archive/pitr.h"

#include <fmt/format.h>

#include <map>

#include "archive/segment_io.h"
#include "archive/stage.h"
#include "backup/snapshot.h"
#include "mysql/gtid.h"

namespace manage::archive {
namespace {

using std::chrono::milliseconds;

void Step(const PointInTimeOptions& o, const std::string& what) {
  if (o.on_step) o.on_step(what);
}

Status CheckEmpty(sys::FileSystem& fs, const std::string& datadir) {
  if (!fs.Exists(datadir)) return Status::Ok();
  auto names = fs.ListDir(datadir);
  if (!names.ok()) return names.status();
  for (const std::string& n : *names) {
    if (n != "lost+found" && n != ".restore") {
      return Status::FailedPrecondition("datadir " + datadir + " is not empty (it has '" + n +
                                        "'); refusing to restore over existing data");
    }
  }
  return Status::Ok();
}

struct Cut {
  size_t part = 0, link = 0;  // the link where the replay stops
  MariaDbGtid gtid;           // the first transaction not replayed
  Staged staged;              // that link, staged up to the cut
};

// Reads links from the cut link on until the first transaction not to replay.
Result<Cut> FindCut(storage::ObjectStore& archive, const Chain& chain, const PointInTimeOptions& o,
                    uint64_t* segments) {
  auto ref = FindCutLink(chain, o.target);
  if (!ref.ok()) return ref.status();
  const ChainPart& part = chain.parts[ref->part];
  for (size_t l = ref->link; l < part.links.size(); ++l) {
    StageRule rule{std::nullopt, o.target};
    auto staged = StageLink(archive, part.links[l], o.key, rule,
                            o.work_dir + fmt::format("/cut-{:06}.bin", l));
    if (!staged.ok()) return staged.status();
    ++*segments;
    if (!staged->cut) continue;
    if (o.target.by_gtid && !(*staged->cut == o.target.gtid)) {
      return Status::NotFound(fmt::format("{} is not in the archive's history: it holds {} there",
                                          GtidText(o.target.gtid), GtidText(*staged->cut)));
    }
    return Cut{ref->part, l, *staged->cut, *staged};
  }
  return Status::NotFound(fmt::format("no archived transaction at or after {} in {} .. {}",
                                      o.target.ToString(), GtidText(part.start),
                                      GtidText(part.end)));
}

// Stages the links from the snapshot's GTID to the cut. FailedPrecondition
// when the snapshot's GTID is not where the chain puts it.
Result<std::vector<Staged>> StageFrom(storage::ObjectStore& archive, const Chain& chain,
                                      const Cut& cut, const SnapshotPoint& snapshot,
                                      const PointInTimeOptions& o, uint64_t* segments) {
  const ChainPart& part = chain.parts[cut.part];
  std::optional<ReplayStart> start = StartAfter(part, snapshot.gtid);
  if (!start || start->link > cut.link) return std::vector<Staged>{};
  std::vector<Staged> out;
  for (size_t l = start->link; l <= cut.link; ++l) {
    const bool first = l == start->link;
    if (l == cut.link && !(first && start->skip_through)) {
      out.push_back(cut.staged);
      continue;
    }
    StageRule rule{first ? start->skip_through : std::nullopt,
                   l == cut.link ? std::optional<Target>(o.target) : std::nullopt};
    auto staged = StageLink(archive, part.links[l], o.key, rule,
                            o.work_dir + fmt::format("/replay-{:06}.bin", l));
    if (!staged.ok()) return staged.status();
    ++*segments;
    out.push_back(*staged);
  }
  return out;
}

const backup::BackupRecord* RecordOf(const std::vector<backup::BackupRecord>& records,
                                     const std::string& id) {
  for (const backup::BackupRecord& r : records) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace

// Replays staged files on the restored datadir (pitr_replay.cc).
Status Replay(sys::ProcessRunner& runner, sys::FileSystem& fs, const PointInTimeOptions& o,
              const std::string& start_state, const std::vector<Staged>& staged,
              PointInTimeResult* result);

std::vector<SnapshotPoint> SnapshotPoints(const std::vector<backup::BackupRecord>& records,
                                          uint32_t domain) {
  std::vector<SnapshotPoint> out;
  for (const backup::BackupRecord& r : records) {
    auto pos = mysql::MariaDbGtidPosition::Parse(r.gtid);
    if (!pos.ok()) continue;
    const mysql::MariaDbGtid* g = pos->Find(domain);
    const int64_t t =
        std::chrono::duration_cast<std::chrono::seconds>(r.time.time_since_epoch()).count();
    out.push_back({r.id, g != nullptr ? *g : MariaDbGtid{domain, 0, 0}, t});
  }
  return out;
}

Result<PointInTimeResult> RestoreToPoint(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                         storage::ObjectStore& snapshot_store,
                                         storage::ObjectStore& archive,
                                         const std::vector<backup::BackupRecord>& snapshots,
                                         const PointInTimeOptions& o) {
  if (o.datadir.empty() || o.datadir.front() != '/' || o.work_dir.empty()) {
    return Status::InvalidArgument(
        "a point-in-time restore needs an absolute datadir and a work dir");
  }
  MANAGE_RETURN_IF_ERROR(CheckEmpty(fs, o.datadir));
  auto segments = ListSegments(archive);
  if (!segments.ok()) return segments.status();
  const Chain chain = BuildChain(std::move(*segments));
  if (chain.empty())
    return Status::NotFound("the binlog archive " + archive.Location() + " is empty");
  MANAGE_RETURN_IF_ERROR(fs.RemoveAll(o.work_dir));
  MANAGE_RETURN_IF_ERROR(fs.MakeDirs(o.work_dir, 0700));
  PointInTimeResult result;
  Status st = [&]() -> Status {
    Step(o, "finding where " + o.target.ToString() + " lies in the archive");
    auto cut = FindCut(archive, chain, o, &result.segments);
    if (!cut.ok()) return cut.status();
    result.stopped_before = GtidText(cut->gtid);
    const uint32_t domain = chain.parts[cut->part].start.domain_id;
    std::vector<SnapshotPoint> candidates;
    for (const SnapshotPoint& s :
         SnapshotsInPart(chain, cut->part, SnapshotPoints(snapshots, domain))) {
      if (s.gtid.seqno < cut->gtid.seqno) candidates.push_back(s);
    }
    if (candidates.empty()) {
      return Status::NotFound(fmt::format(
          "no snapshot precedes {} on its stretch of the archive ({} .. {}): a restore needs a "
          "snapshot taken after {} and before the target",
          o.target.ToString(), GtidText(chain.parts[cut->part].start),
          GtidText(chain.parts[cut->part].end), GtidText(chain.parts[cut->part].start)));
    }
    for (const SnapshotPoint& snap : candidates) {
      Step(o, "verifying the archived transactions after snapshot " + snap.id);
      auto staged = StageFrom(archive, chain, *cut, snap, o, &result.segments);
      if (!staged.ok() && staged.status().code() == Code::kFailedPrecondition) {
        Step(o, "snapshot " + snap.id + " is not on the archive's history (" +
                    staged.status().message() + "); trying an older one");
        continue;
      }
      if (!staged.ok()) return staged.status();
      const backup::BackupRecord* record = RecordOf(snapshots, snap.id);
      Step(o, "restoring snapshot " + snap.id);
      backup::RestoreOptions ro;
      ro.datadir = o.datadir;
      ro.mysql_user = o.mysql_user;
      ro.key = o.key;
      ro.timeout = o.timeout;
      auto pos = backup::RestoreSnapshot(runner, fs, snapshot_store, *record, ro);
      if (!pos.ok()) return pos.status();
      result.snapshot_id = snap.id;
      result.snapshot_gtid = pos->gtid.empty() ? record->gtid : pos->gtid;
      return Replay(runner, fs, o, result.snapshot_gtid, *staged, &result);
    }
    return Status::NotFound("no snapshot before " + o.target.ToString() +
                            " is on the archive's history");
  }();
  (void)fs.RemoveAll(o.work_dir);
  if (!st.ok()) {
    if (fs.Exists(o.datadir)) {
      auto names = fs.ListDir(o.datadir);
      if (names.ok()) {
        for (const std::string& n : *names) {
          if (n != "lost+found") (void)fs.RemoveAll(o.datadir + "/" + n);
        }
      }
    }
    return st.Annotate("restore to " + o.target.ToString());
  }
  return result;
}

}  // namespace manage::archive
