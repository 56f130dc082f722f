#include "ops/status_report.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ops/json_object.h"

namespace manage::ops {
namespace {

constexpr size_t kTextHistory = 10;

}  // namespace

std::string FormatText(const StatusReport& r) {
  std::string out = fmt::format("{:<28} {:<21} {:<10} {:<8} {:<4} {:<6} {}\n", "NODE", "ADDRESS",
                                "ROLE", "HEALTH", "RO", "LAG", "GTID");
  for (const NodeRow& n : r.nodes) {
    std::string ro = n.read_only ? (*n.read_only ? "ON" : "OFF") : "-";
    std::string lag = n.lag_seconds ? fmt::format("{}s", *n.lag_seconds) : "-";
    std::string gtid =
        n.error.empty() ? (n.gtid.empty() ? "(empty)" : n.gtid) : "unreachable: " + n.error;
    out += fmt::format("{:<28} {:<21} {:<10} {:<8} {:<4} {:<6} {}\n", n.name,
                       fmt::format("{}:{}", n.address, n.port), n.role,
                       n.healthy ? "passing" : "failing", ro, lag, gtid);
  }
  if (r.nodes.empty()) out += "(no nodes registered)\n";
  out += fmt::format("primary lock: {}\n", r.primary.empty() ? "(free)" : r.primary);
  if (r.snapshot) {
    const SnapshotRow& s = *r.snapshot;
    out += fmt::format("newest snapshot: {} taken {} by {} gtid={} size={} sha256={}\n", s.id,
                       s.time, s.node.empty() ? "?" : s.node, s.gtid.empty() ? "?" : s.gtid, s.size,
                       s.sha256.empty() ? "?" : s.sha256);
  } else {
    out += "newest snapshot: (none)\n";
  }
  if (!r.history.empty()) {
    // The newest few, oldest first, like a log.
    size_t first = r.history.size() > kTextHistory ? r.history.size() - kTextHistory : 0;
    out += fmt::format("failovers and switchovers ({} recorded, newest last):\n", r.history.size());
    for (size_t i = first; i < r.history.size(); ++i) {
      const HistoryRow& h = r.history[i];
      std::string candidates;
      for (const auto& [node, gtid] : h.candidates) {
        candidates += fmt::format("{}{}={}", candidates.empty() ? "" : " ", node,
                                  gtid.empty() ? "(empty)" : gtid);
      }
      out += fmt::format("  {} {} {} -> {} in {} ms; {}; candidates: {}\n", h.time, h.kind,
                         h.old_primary.empty() ? "(none)" : h.old_primary, h.new_primary,
                         h.duration_ms, h.reason, candidates.empty() ? "-" : candidates);
    }
  }
  return out;
}

void WriteNodeMembers(JsonObject& o, const NodeRow& n) {
  o.Str("name", n.name).Str("address", n.address).Int("port", n.port);
  o.Str("role", n.role).Bool("healthy", n.healthy).Str("gtid", n.gtid);
  o.Maybe("lag_seconds", n.lag_seconds).Maybe("read_only", n.read_only);
  o.StrOrNull("error", n.error);
}

void WriteSnapshot(rapidjson::Writer<rapidjson::StringBuffer>& w,
                   const std::optional<SnapshotRow>& snapshot) {
  if (!snapshot) {
    w.Null();
    return;
  }
  const SnapshotRow& s = *snapshot;
  JsonObject o(w);
  w.StartObject();
  o.Str("id", s.id).Str("dt", s.time).Str("gtid", s.gtid).Str("node", s.node);
  o.Uint("size", s.size).Str("sha256", s.sha256);
  o.Uint("raw_size", s.raw_size).Uint("duration_ms", s.duration_ms);
  o.Str("compression", s.compression).Str("encryption", s.encryption);
  w.EndObject();
}

void WriteHistory(rapidjson::Writer<rapidjson::StringBuffer>& w,
                  const std::vector<HistoryRow>& history) {
  JsonObject o(w);
  w.StartArray();
  for (const HistoryRow& h : history) {
    w.StartObject();
    o.Str("time", h.time).Str("kind", h.kind).Str("old", h.old_primary).Str("new", h.new_primary);
    o.Str("reason", h.reason).Int("duration_ms", h.duration_ms);
    w.Key("candidates");
    w.StartArray();
    for (const auto& [node, gtid] : h.candidates) {
      w.StartObject();
      o.Str("node", node).Str("gtid", gtid);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

std::string FormatJson(const StatusReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  JsonObject o(w);
  w.StartObject();
  o.Str("service", r.service).StrOrNull("primary", r.primary);
  w.Key("nodes");
  w.StartArray();
  for (const NodeRow& n : r.nodes) {
    w.StartObject();
    WriteNodeMembers(o, n);
    w.EndObject();
  }
  w.EndArray();
  w.Key("snapshot");
  WriteSnapshot(w, r.snapshot);
  w.Key("history");
  WriteHistory(w, r.history);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace manage::ops
