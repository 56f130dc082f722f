#include "cluster/errant.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace manage::cluster {

Result<std::vector<ErrantRange>> FindErrant(std::string_view replica_pos,
                                            std::string_view primary_pos,
                                            std::string_view primary_binlog_state) {
  auto replica = mysql::MariaDbGtidPosition::Parse(replica_pos);
  if (!replica.ok()) return replica.status().Annotate("replica GTID position");
  auto primary = mysql::MariaDbGtidPosition::Parse(primary_pos);
  if (!primary.ok()) return primary.status().Annotate("primary GTID position");
  // gtid_binlog_state has one GTID per (domain, server): parse piece by piece.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> known;
  size_t start = 0;
  while (start <= primary_binlog_state.size()) {
    size_t comma = primary_binlog_state.find(',', start);
    std::string_view piece = primary_binlog_state.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto one = mysql::MariaDbGtidPosition::Parse(piece);
    if (!one.ok()) return one.status().Annotate("primary binlog state");
    for (const mysql::MariaDbGtid& g : one->gtids()) {
      uint64_t& seq = known[{g.domain_id, g.server_id}];
      seq = std::max(seq, g.seqno);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  for (const mysql::MariaDbGtid& g : primary->gtids()) {
    uint64_t& seq = known[{g.domain_id, g.server_id}];
    seq = std::max(seq, g.seqno);
  }
  std::vector<ErrantRange> out;
  for (const mysql::MariaDbGtid& mine : replica->gtids()) {
    const mysql::MariaDbGtid* theirs = primary->Find(mine.domain_id);
    uint64_t domain_seq = theirs ? theirs->seqno : 0;
    auto it = known.find({mine.domain_id, mine.server_id});
    if (mine.seqno > domain_seq) {
      // Ahead of the primary in this domain. Same server: just later
      // transactions; another server: everything after the primary's point.
      out.push_back({mine.domain_id, mine.server_id,
                     it != known.end() ? std::min(it->second, domain_seq) : domain_seq,
                     mine.seqno});
    } else if (it != known.end() && it->second < mine.seqno) {
      out.push_back({mine.domain_id, mine.server_id, it->second, mine.seqno});
    }
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
