// backup: the operator's view of the snapshot store, from any node.
//   list [--json]            every snapshot the manifests describe, newest first,
//                            then the binlog archive's recoverable windows and gaps
//   verify ID                read it back whole: decrypt, decompress, check the
//                            SHA-256 and size against its record and the
//                            xbstream framing and CRC-32 of every chunk
//   restore ID --datadir DIR unpack and prepare it into an empty directory
//   restore --to-time T | --to-gtid G --datadir DIR [--from SERVICE] [--work-dir W]
//                            a snapshot plus the archived binlog up to, not
//                            including, T or G (hooks/point_in_time.h)
//   delete ID                delete it (never the newest)
// Nothing here takes a lock or changes the cluster: restore writes only DIR
// (and its work dir), delete only the one snapshot's objects.
#include <fmt/format.h>
#include <unistd.h>

#include "backup/catalog.h"
#include "backup/snapshot.h"
#include "backup/xbstream.h"
#include "hooks/backup_access.h"
#include "hooks/hooks.h"
#include "hooks/point_in_time.h"
#include "ops/backup_report.h"
#include "sys/self_usage.h"

namespace manage::hooks {
namespace {

// LAST_BACKUP_KEY's record; nullopt when unset or Consul cannot say.
std::optional<backup::BackupRecord> NewestRecord(Deps& deps) {
  auto kv = deps.consul->Get(deps.config->keys.last_backup_key);
  if (!kv.ok() || kv->value.empty()) return std::nullopt;
  auto record = backup::ParseBackupRecord(kv->value);
  if (!record.ok()) return std::nullopt;
  return *record;
}

// The record of snapshot `id`: its manifest, else LAST_BACKUP_KEY when that
// names it (snapshots from before manifests existed).
Result<backup::BackupRecord> FindRecord(Deps& deps, storage::ObjectStore& store,
                                        const std::string& id) {
  auto manifest = backup::ReadManifest(store, id);
  if (manifest.ok() || manifest.status().code() != Code::kNotFound) return manifest;
  if (auto newest = NewestRecord(deps); newest && newest->id == id) return *newest;
  return Status::NotFound("no snapshot '" + id + "' in " + store.Location() +
                          " (see `manage backup list`)");
}

ops::BackupRow Row(const backup::BackupRecord& r, bool newest, bool has_manifest) {
  return {r.id,          backup::FormatBackupTime(r.time),
          r.gtid,        r.node,
          r.compression, r.encryption,
          r.key_id,      r.sha256,
          r.size,        r.raw_size,
          r.duration_ms, newest,
          has_manifest};
}

Status List(Deps& deps, storage::ObjectStore& store, bool json) {
  auto catalog = backup::ReadCatalog(store);
  if (!catalog.ok()) return catalog.status();
  std::optional<backup::BackupRecord> newest = NewestRecord(deps);
  ops::BackupReport report;
  report.location = store.Location();
  bool newest_listed = false;
  for (const backup::BackupRecord& r : catalog->snapshots) {
    bool is_newest = newest && newest->id == r.id;
    newest_listed = newest_listed || is_newest;
    report.snapshots.push_back(Row(r, is_newest, true));
  }
  if (newest && !newest_listed) {
    report.snapshots.insert(report.snapshots.begin(), Row(*newest, true, false));
  }
  for (const storage::ObjectInfo& o : catalog->orphans) {
    if (!newest || o.name != newest->id) report.orphans.push_back(o.name);
  }
  report.problems = catalog->problems;
  report.archive = ArchiveReportFor(deps, catalog->snapshots);
  deps.out(json ? ops::FormatBackupJson(report) + "\n" : ops::FormatBackupText(report));
  return Status::Ok();
}

Status Verify(Deps& deps, storage::ObjectStore& store, const std::string& id) {
  auto record = FindRecord(deps, store, id);
  if (!record.ok()) return record.status();
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  backup::XbstreamChecker checker;
  auto decoder = backup::Decoder::Create(*record, key->has_value() ? &**key : nullptr, &checker);
  if (!decoder.ok()) return decoder.status();
  Progress progress = ProgressLine(deps, "verify " + id);
  Status read = store.Read(id, [&](std::string_view chunk) {
    MANAGE_RETURN_IF_ERROR((*decoder)->input().Write(chunk));
    if (progress.update) progress.update((*decoder)->stored_bytes());
    return Status::Ok();
  });
  progress.done();
  if (read.ok()) read = (*decoder)->input().Close();
  if (read.ok()) read = (*decoder)->CheckRecord();
  if (!read.ok()) return read.Annotate("snapshot " + id + " is not usable");
  deps.out(fmt::format("ok: {} ({} stored, {} of xbstream, {} files; sha256 {}; {}, {})\n", id,
                       record->size, checker.payload_bytes(), checker.files(), record->sha256,
                       record->compression, record->encryption));
  return Status::Ok();
}

Status Restore(Deps& deps, storage::ObjectStore& store, const std::string& id,
               const std::string& datadir) {
  auto record = FindRecord(deps, store, id);
  if (!record.ok()) return record.status();
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  backup::RestoreOptions opts;
  opts.datadir = datadir;
  opts.key = key->has_value() ? &**key : nullptr;
  opts.mysql_user = ::geteuid() == 0 ? deps.config->mysql.os_user : "";
  Progress progress = ProgressLine(deps, "restore " + id);
  opts.on_progress = progress.update;
  auto pos = backup::RestoreSnapshot(*deps.runner, *deps.fs, store, *record, opts);
  progress.done();
  if (!pos.ok()) return pos.status();
  deps.out(fmt::format("restored {} into {}: binlog {} position {}, gtid {}\n", id, datadir,
                       pos->file.empty() ? "?" : pos->file, pos->position,
                       pos->gtid.empty() ? record->gtid : pos->gtid));
  const sys::SelfUsage usage = sys::ReadSelfUsage();
  deps.log.Info("snapshot restored", {{"id", id},
                                      {"datadir", datadir},
                                      {"cpu_ms", std::to_string(usage.cpu.count())},
                                      {"max_rss_kb", std::to_string(usage.max_rss_kb)}});
  return Status::Ok();
}

Status Delete(Deps& deps, storage::ObjectStore& store, const std::string& id) {
  auto record = FindRecord(deps, store, id);
  if (!record.ok()) return record.status();
  std::optional<backup::BackupRecord> newest = NewestRecord(deps);
  if (!newest) {
    return Status::Unavailable("cannot read " + deps.config->keys.last_backup_key +
                               " to tell which snapshot is the newest; not deleting");
  }
  auto catalog = backup::ReadCatalog(store);
  if (!catalog.ok()) return catalog.status();
  bool newest_in_store = !catalog->snapshots.empty() && catalog->snapshots.front().id == id;
  if (newest->id == id || newest_in_store) {
    return Status::FailedPrecondition("refusing to delete " + id +
                                      ": it is the newest snapshot, the one new replicas restore");
  }
  MANAGE_RETURN_IF_ERROR(backup::DeleteSnapshot(store, id));
  deps.out("deleted " + id + "\n");
  return Status::Ok();
}

// The positional arguments after the verb, and the options' values.
struct Parsed {
  std::string verb;
  std::vector<std::string> positional;
  std::string datadir, to_time, to_gtid, from, work_dir;
  bool json = false;
};

// "--name VALUE" or "--name=VALUE" at args[*i]; advances *i past a separate value.
bool Option(const Args& args, size_t* i, const std::string& name, std::string* value) {
  const std::string& a = args[*i];
  if (a == name && *i + 1 < args.size()) {
    *value = args[++*i];
    return true;
  }
  if (a.rfind(name + "=", 0) == 0) {
    *value = a.substr(name.size() + 1);
    return true;
  }
  return false;
}

Status RestoreToPoint(Deps& deps, storage::ObjectStore& store, const Parsed& p) {
  const bool by_gtid = !p.to_gtid.empty();
  auto target = archive::ParseTarget(by_gtid ? p.to_gtid : p.to_time, by_gtid);
  if (!target.ok()) return target.status();
  PointInTimeRequest request{p.from.empty() ? deps.config->service_name : p.from, *target,
                             p.datadir, p.work_dir};
  auto done = RestorePointInTime(deps, store, request);
  if (!done.ok()) return done.status();
  deps.out(fmt::format(
      "restored {} to {}: snapshot {} (GTID {}) and {} archived transactions ({} events, {} "
      "segments) replayed in {:.1f} s; stopped before {}; GTID position {}\n",
      p.datadir, target->ToString(), done->snapshot_id, done->snapshot_gtid, done->transactions,
      done->events, done->segments, done->replay_time.count() / 1000.0, done->stopped_before,
      done->position.empty() ? "-" : done->position));
  return Status::Ok();
}

Result<Parsed> Parse(const Args& args) {
  Parsed p;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      p.json = true;
    } else if (Option(args, &i, "--datadir", &p.datadir) ||
               Option(args, &i, "--to-time", &p.to_time) ||
               Option(args, &i, "--to-gtid", &p.to_gtid) || Option(args, &i, "--from", &p.from) ||
               Option(args, &i, "--work-dir", &p.work_dir)) {
      continue;
    } else if (a.rfind("-", 0) == 0) {
      return Status::InvalidArgument(fmt::format("unknown argument '{}'", a));
    } else if (p.verb.empty()) {
      p.verb = a;
    } else {
      p.positional.push_back(a);
    }
  }
  const bool to_point = !p.to_time.empty() || !p.to_gtid.empty();
  if (to_point && p.verb != "restore") {
    return Status::InvalidArgument("--to-time and --to-gtid are for backup restore");
  }
  if (!p.to_time.empty() && !p.to_gtid.empty()) {
    return Status::InvalidArgument("give --to-time or --to-gtid, not both");
  }
  if ((!p.from.empty() || !p.work_dir.empty()) && !to_point) {
    return Status::InvalidArgument("--from and --work-dir go with --to-time or --to-gtid");
  }
  const bool needs_id =
      p.verb == "verify" || (p.verb == "restore" && !to_point) || p.verb == "delete";
  if (p.verb != "list" && p.verb != "restore" && !needs_id) {
    return Status::InvalidArgument(
        p.verb.empty()
            ? "missing command: list, verify, restore or delete"
            : fmt::format("unknown command '{}': list, verify, restore or delete", p.verb));
  }
  if (p.positional.size() != (needs_id ? 1u : 0u)) {
    return Status::InvalidArgument(
        needs_id ? "backup " + p.verb + " takes one snapshot ID"
                 : "backup " + p.verb + " takes no snapshot ID" +
                       (to_point ? " (it picks the newest before the target)" : ""));
  }
  if (p.json && p.verb != "list") return Status::InvalidArgument("--json is for backup list");
  if ((p.verb == "restore") != !p.datadir.empty()) {
    return Status::InvalidArgument(p.verb == "restore" ? "backup restore needs --datadir DIR"
                                                       : "--datadir is for backup restore");
  }
  return p;
}

}  // namespace

Status Backup(Deps& deps, const Args& args) {
  auto parsed = Parse(args);
  if (!parsed.ok()) return parsed.status();
  auto store = deps.open_store();
  if (!store.ok()) {
    return store.status().Annotate(
        fmt::format("snapshot store '{}'", deps.config->snapshot.backend));
  }
  const Parsed& p = *parsed;
  if (p.verb == "list") return List(deps, **store, p.json);
  if (p.verb == "restore" && p.positional.empty()) return RestoreToPoint(deps, **store, p);
  const std::string& id = p.positional[0];
  if (p.verb == "verify") return Verify(deps, **store, id);
  if (p.verb == "restore") return Restore(deps, **store, id, p.datadir);
  return Delete(deps, **store, id);
}

}  // namespace manage::hooks
