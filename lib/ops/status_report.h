// StatusReport: what `manage status` shows, and its text and JSON renderings.
// Pure; the hook collects the facts from Consul and each node's mysqld.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/json_object.h"

namespace manage::ops {

struct NodeRow {
  std::string name;  // Consul service ID
  std::string address;
  int port = 0;
  std::string role;      // primary, replica, unassigned
  bool healthy = false;  // passing in Consul
  std::string gtid;      // gtid_current_pos; empty when unreachable
  std::optional<int64_t> lag_seconds;
  std::optional<bool> read_only;
  std::string error;  // why the node's mysqld could not be read
};

struct SnapshotRow {
  std::string id, time, gtid, node, sha256;
  uint64_t size = 0;
  uint64_t raw_size = 0;     // bytes before compression; 0 when unknown
  uint64_t duration_ms = 0;  // how long taking it took; 0 when unknown
  std::string compression{}, encryption{};
  int64_t time_unix = 0;  // `time` in seconds since the epoch
};

// One failover or switchover from FAILOVER_HISTORY_KEY.
struct HistoryRow {
  std::string time, kind, old_primary, new_primary, reason;
  int64_t duration_ms = 0;
  std::vector<std::pair<std::string, std::string>> candidates;  // node, GTID
  int64_t time_unix = 0;                                        // `time` in seconds since the epoch
};

struct StatusReport {
  std::string service;
  std::string primary;  // holder of PRIMARY_KEY; empty when none
  std::vector<NodeRow> nodes;
  std::optional<SnapshotRow> snapshot;
  std::vector<HistoryRow> history;  // oldest first
};

std::string FormatText(const StatusReport& report);
std::string FormatJson(const StatusReport& report);

// The members FormatJson writes for one node, one snapshot and the history,
// for other reports with the same facts (`manage serve`'s /node).
void WriteNodeMembers(JsonObject& o, const NodeRow& n);
void WriteSnapshot(rapidjson::Writer<rapidjson::StringBuffer>& w,
                   const std::optional<SnapshotRow>& s);
void WriteHistory(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::vector<HistoryRow>& h);

}  // namespace manage::ops
