#include "cluster/errant.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace manage::cluster {

namespace {

using ServerKey = std::pair<uint32_t, uint32_t>;  // (domain, server)

// gtid_binlog_state: one GTID per (domain, server), the last of each.
Result<std::map<ServerKey, uint64_t>> ParseBinlogState(std::string_view state) {
  std::map<ServerKey, uint64_t> known;
  size_t start = 0;
  while (start <= state.size()) {
    size_t comma = state.find(',', start);
    std::string_view piece = state.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto one = mysql::MariaDbGtidPosition::Parse(piece);
    if (!one.ok()) return one.status();
    for (const mysql::MariaDbGtid& g : one->gtids()) {
      uint64_t& seq = known[{g.domain_id, g.server_id}];
      seq = std::max(seq, g.seqno);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return known;
}

}  // namespace

namespace {

// What a source has, per MariaDB's rule for a connecting replica.
struct SourceState {
  mysql::MariaDbGtidPosition current;
  mysql::MariaDbGtidPosition replicated;
  std::map<ServerKey, uint64_t> known;  // its binlog state and current position

  bool Has(const mysql::MariaDbGtid& g) const {
    auto it = known.find({g.domain_id, g.server_id});
    if (it != known.end() && it->second >= g.seqno) return true;  // in its binlog
    const mysql::MariaDbGtid* own = replicated.Find(g.domain_id);
    return own && *own == g;  // where it stopped replicating itself
  }
};

Result<SourceState> ParseSource(std::string_view pos, std::string_view binlog_state,
                                std::string_view slave_pos) {
  SourceState s;
  auto current = mysql::MariaDbGtidPosition::Parse(pos);
  if (!current.ok()) return current.status().Annotate("primary GTID position");
  auto replicated = mysql::MariaDbGtidPosition::Parse(slave_pos);
  if (!replicated.ok()) return replicated.status().Annotate("primary replication position");
  auto known = ParseBinlogState(binlog_state);
  if (!known.ok()) return known.status().Annotate("primary binlog state");
  for (const mysql::MariaDbGtid& g : current->gtids()) {
    uint64_t& seq = (*known)[{g.domain_id, g.server_id}];
    seq = std::max(seq, g.seqno);
  }
  s.current = *current;
  s.replicated = *replicated;
  s.known = std::move(*known);
  return s;
}

}  // namespace

Result<std::vector<ErrantRange>> FindErrant(std::string_view replica_pos,
                                            std::string_view primary_pos,
                                            std::string_view primary_binlog_state,
                                            std::string_view primary_slave_pos) {
  auto replica = mysql::MariaDbGtidPosition::Parse(replica_pos);
  if (!replica.ok()) return replica.status().Annotate("replica GTID position");
  auto source = ParseSource(primary_pos, primary_binlog_state, primary_slave_pos);
  if (!source.ok()) return source.status();
  std::vector<ErrantRange> out;
  for (const mysql::MariaDbGtid& mine : replica->gtids()) {
    if (source->Has(mine)) continue;
    // The primary has server s's transactions in domain d only up to a lower
    // seqno, or none at all: what this node has of s after that point is not
    // in the primary's history (MariaDB refuses such a replica with 1236).
    uint64_t after = 0;
    auto it = source->known.find({mine.domain_id, mine.server_id});
    if (it != source->known.end()) {
      after = it->second;
    } else if (const mysql::MariaDbGtid* theirs = source->current.Find(mine.domain_id)) {
      after = std::min(theirs->seqno, mine.seqno - 1);
    }
    out.push_back({mine.domain_id, mine.server_id, after, mine.seqno});
  }
  return out;
}

Result<HasGtid> SourceHas(std::string_view primary_pos, std::string_view primary_binlog_state,
                          std::string_view primary_slave_pos) {
  auto source = ParseSource(primary_pos, primary_binlog_state, primary_slave_pos);
  if (!source.ok()) return source.status();
  return HasGtid([s = std::move(*source)](const mysql::MariaDbGtid& g) { return s.Has(g); });
}

Result<std::vector<ErrantRange>> LocalErrant(std::string_view current_pos,
                                             std::string_view slave_pos) {
  auto current = mysql::MariaDbGtidPosition::Parse(current_pos);
  if (!current.ok()) return current.status().Annotate("gtid_current_pos");
  auto replicated = mysql::MariaDbGtidPosition::Parse(slave_pos);
  if (!replicated.ok()) return replicated.status().Annotate("gtid_slave_pos");
  std::vector<ErrantRange> out;
  for (const mysql::MariaDbGtid& g : current->gtids()) {
    const mysql::MariaDbGtid* from_source = replicated->Find(g.domain_id);
    if (from_source && *from_source == g) continue;
    uint64_t after = from_source ? std::min(from_source->seqno, g.seqno - 1) : 0;
    out.push_back({g.domain_id, g.server_id, after, g.seqno});
  }
  return out;
}

std::string FormatErrant(const std::vector<ErrantRange>& ranges) {
  std::string out;
  for (const ErrantRange& r : ranges) {
    if (!out.empty()) out += ",";
    if (r.last_seqno == r.after_seqno + 1) {
      out += fmt::format("{}-{}-{}", r.domain_id, r.server_id, r.last_seqno);
    } else {
      out += fmt::format("{}-{}-{}..{}", r.domain_id, r.server_id, r.after_seqno + 1, r.last_seqno);
    }
  }
  return out;
}

std::optional<mysql::MariaDbGtid> ParseBinlogEventGtid(std::string_view info) {
  if (info.rfind("BEGIN ", 0) == 0) info.remove_prefix(6);
  if (info.rfind("GTID ", 0) != 0) return std::nullopt;
  info.remove_prefix(5);
  size_t end = info.find(' ');
  if (end != std::string_view::npos) info = info.substr(0, end);
  auto pos = mysql::MariaDbGtidPosition::Parse(info);
  if (!pos.ok() || pos->gtids().size() != 1) return std::nullopt;
  return pos->gtids().front();
}

}  // namespace manage::cluster
