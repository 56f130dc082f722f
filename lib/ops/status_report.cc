#include "ops/status_report.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

std::string FormatJson(const StatusReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("service");
  w.String(r.service.c_str());
  w.Key("primary");
  r.primary.empty() ? w.Null() : w.String(r.primary.c_str());
  w.Key("nodes");
  w.StartArray();
  for (const NodeRow& n : r.nodes) {
    w.StartObject();
    w.Key("name");
    w.String(n.name.c_str());
    w.Key("address");
    w.String(n.address.c_str());
    w.Key("port");
    w.Int(n.port);
    w.Key("role");
    w.String(n.role.c_str());
    w.Key("healthy");
    w.Bool(n.healthy);
    w.Key("gtid");
    w.String(n.gtid.c_str());
    w.Key("lag_seconds");
    n.lag_seconds ? w.Int64(*n.lag_seconds) : w.Null();
    w.Key("read_only");
    n.read_only ? w.Bool(*n.read_only) : w.Null();
    w.Key("error");
    n.error.empty() ? w.Null() : w.String(n.error.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("snapshot");
  if (r.snapshot) {
    const SnapshotRow& s = *r.snapshot;
    w.StartObject();
    w.Key("id");
    w.String(s.id.c_str());
    w.Key("dt");
    w.String(s.time.c_str());
    w.Key("gtid");
    w.String(s.gtid.c_str());
    w.Key("node");
    w.String(s.node.c_str());
    w.Key("size");
    w.Uint64(s.size);
    w.Key("sha256");
    w.String(s.sha256.c_str());
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("history");
  w.StartArray();
  for (const HistoryRow& h : r.history) {
    w.StartObject();
    w.Key("time");
    w.String(h.time.c_str());
    w.Key("kind");
    w.String(h.kind.c_str());
    w.Key("old");
    w.String(h.old_primary.c_str());
    w.Key("new");
    w.String(h.new_primary.c_str());
    w.Key("reason");
    w.String(h.reason.c_str());
    w.Key("duration_ms");
    w.Int64(h.duration_ms);
    w.Key("candidates");
    w.StartArray();
    for (const auto& [node, gtid] : h.candidates) {
      w.StartObject();
      w.Key("node");
      w.String(node.c_str());
      w.Key("gtid");
      w.String(gtid.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace manage::ops
