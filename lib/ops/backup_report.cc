#include "ops/backup_report.h"

#include <fmt/format.h>

#include "ops/json_object.h"

namespace manage::ops {
namespace {

// 1536 -> "1.5K": binary units, as ls -h and du -h print them.
std::string Size(uint64_t bytes) {
  const char* units = "BKMGTP";
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1024 && i < 5) {
    v /= 1024;
    ++i;
  }
  return i == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.1f}{}", v, units[i]);
}

std::string ArchiveText(const ArchiveReport& a) {
  if (!a.error.empty()) return fmt::format("binlog archive: {}\n", a.error);
  if (!a.present) return "binlog archive: none\n";
  std::string out =
      fmt::format("binlog archive: {} (epoch {}; {} segments, {} sealed, {} superseded)\n",
                  a.location, a.epoch, a.segments, a.sealed, a.unused);
  if (!a.head_gtid.empty()) {
    out += fmt::format("  archived through {} at {}\n", a.head_gtid,
                       a.head_time.empty() ? "?" : a.head_time);
  }
  for (const ArchiveWindow& w : a.windows) {
    out += fmt::format(
        "  recoverable: {} .. {}  (GTID {} .. {}; from snapshot {}, {} snapshot{})\n", w.from_time,
        w.to_time, w.from_gtid, w.to_gtid, w.snapshot, w.snapshots, w.snapshots == 1 ? "" : "s");
  }
  if (a.windows.empty())
    out += "  recoverable: nothing (no snapshot lies on the archived history)\n";
  for (const ArchiveGapRow& g : a.gaps) {
    out += fmt::format(
        "  gap: after {} ({}) .. through {} ({}): not archived; no restore reaches a point "
        "inside it\n",
        g.after_gtid, g.after_time.empty() ? "?" : g.after_time, g.before_gtid,
        g.before_time.empty() ? "?" : g.before_time);
  }
  return out;
}

void ArchiveJson(rapidjson::Writer<rapidjson::StringBuffer>& w, const ArchiveReport& a) {
  w.Key("archive");
  w.StartObject();
  JsonObject(w)
      .Bool("present", a.present)
      .StrOrNull("location", a.location)
      .Uint("epoch", a.epoch)
      .Uint("segments", a.segments)
      .Uint("sealed", a.sealed)
      .Uint("superseded", a.unused)
      .StrOrNull("head_gtid", a.head_gtid)
      .StrOrNull("head_time", a.head_time)
      .StrOrNull("error", a.error);
  w.Key("windows");
  w.StartArray();
  for (const ArchiveWindow& x : a.windows) {
    w.StartObject();
    JsonObject(w)
        .Str("snapshot", x.snapshot)
        .Str("from_gtid", x.from_gtid)
        .Str("from_time", x.from_time)
        .Str("to_gtid", x.to_gtid)
        .Str("to_time", x.to_time)
        .Uint("snapshots", x.snapshots);
    w.EndObject();
  }
  w.EndArray();
  w.Key("gaps");
  w.StartArray();
  for (const ArchiveGapRow& g : a.gaps) {
    w.StartObject();
    JsonObject(w)
        .Str("after_gtid", g.after_gtid)
        .StrOrNull("after_time", g.after_time)
        .Str("before_gtid", g.before_gtid)
        .StrOrNull("before_time", g.before_time);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string FormatBackupText(const BackupReport& r) {
  std::string out = fmt::format("store: {}\n", r.location);
  out += fmt::format("{:<40} {:<26} {:>8} {:>8} {:<5} {:<11} {:<14} {}\n", "ID", "TIME (UTC)",
                     "SIZE", "RAW", "COMP", "ENCRYPTION", "NODE", "GTID");
  for (const BackupRow& b : r.snapshots) {
    std::string note = b.newest ? "  <- newest (LAST_BACKUP_KEY)" : "";
    if (!b.has_manifest) note += "  (no manifest)";
    out +=
        fmt::format("{:<40} {:<26} {:>8} {:>8} {:<5} {:<11} {:<14} {}{}\n", b.id, b.time,
                    Size(b.size), b.raw_size ? Size(b.raw_size) : "-", b.compression, b.encryption,
                    b.node.empty() ? "?" : b.node, b.gtid.empty() ? "?" : b.gtid, note);
  }
  if (r.snapshots.empty()) out += "(no snapshots)\n";
  for (const std::string& o : r.orphans) {
    out += fmt::format(
        "orphan object (no manifest; a snapshot interrupted before it was "
        "recorded): {}\n",
        o);
  }
  for (const std::string& p : r.problems) out += fmt::format("problem: {}\n", p);
  return out + ArchiveText(r.archive);
}

std::string FormatBackupJson(const BackupReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  JsonObject(w).Str("store", r.location);
  w.Key("snapshots");
  w.StartArray();
  for (const BackupRow& b : r.snapshots) {
    w.StartObject();
    JsonObject(w)
        .Str("id", b.id)
        .Str("time", b.time)
        .Uint("size", b.size)
        .Uint("raw_size", b.raw_size)
        .StrOrNull("gtid", b.gtid)
        .StrOrNull("node", b.node)
        .Str("compression", b.compression)
        .Str("encryption", b.encryption)
        .StrOrNull("key_id", b.key_id)
        .StrOrNull("sha256", b.sha256)
        .Uint("duration_ms", b.duration_ms)
        .Bool("newest", b.newest)
        .Bool("has_manifest", b.has_manifest);
    w.EndObject();
  }
  w.EndArray();
  for (const auto& [key, list] : {std::pair{"orphans", &r.orphans}, {"problems", &r.problems}}) {
    w.Key(key);
    w.StartArray();
    for (const std::string& s : *list)
      w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  }
  ArchiveJson(w, r.archive);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace manage::ops
