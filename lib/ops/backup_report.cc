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
  return out;
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
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace manage::ops
