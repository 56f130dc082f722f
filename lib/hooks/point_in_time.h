// What `manage backup` and pre_start share about the binlog archive: the
// archive part of `backup list` (recoverable windows, gaps) and a
// point-in-time restore of a cluster's snapshots and archive into an empty
// datadir (archive/pitr.h), from the store alone: nothing here reads the
// source cluster's Consul keys.
#pragma once

#include <string>
#include <vector>

#include "archive/pitr.h"
#include "backup/backup_record.h"
#include "hooks/deps.h"
#include "ops/backup_report.h"

namespace manage::hooks {

// The snapshots of cluster `service` among `records` (a record without a
// service is the configured cluster's).
std::vector<backup::BackupRecord> SnapshotsOf(const Deps& deps,
                                              const std::vector<backup::BackupRecord>& records,
                                              const std::string& service);

// The binlog archive of SERVICE_NAME as `backup list` shows it. Errors are
// reported in the result, never returned: the snapshots still list.
ops::ArchiveReport ArchiveReportFor(Deps& deps, const std::vector<backup::BackupRecord>& snapshots);

// Retention of the binlog archive, after snapshot retention: the segments
// only snapshots no longer kept needed go (archive/plan.h SegmentsToDelete).
// `kept`: the snapshots of SERVICE_NAME that remain. Failures are logged.
void PruneArchive(Deps& deps, const std::vector<backup::BackupRecord>& kept);

struct PointInTimeRequest {
  std::string service;  // whose snapshots and archive
  archive::Target target;
  std::string datadir;
  std::string work_dir;  // "": <datadir>.pitr
};

// Restores `request` and reports it (stdout for an operator, the log for
// pre_start).
Result<archive::PointInTimeResult> RestorePointInTime(Deps& deps, storage::ObjectStore& store,
                                                      const PointInTimeRequest& request);

}  // namespace manage::hooks
