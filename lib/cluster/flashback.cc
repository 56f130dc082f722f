#include "cluster/flashback.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

#include "cluster/errant.h"

namespace manage::cluster {
namespace {

using mysql::MariaDbGtid;
using mysql::MariaDbGtidPosition;

// The last GTID of each domain in a Gtid_list event's Info ("[0-1-5,0-2-9]").
std::optional<std::map<uint32_t, MariaDbGtid>> ParseGtidList(std::string_view info) {
  if (info.size() < 2 || info.front() != '[' || info.back() != ']') return std::nullopt;
  info = info.substr(1, info.size() - 2);
  std::map<uint32_t, MariaDbGtid> last;
  while (!info.empty()) {
    size_t comma = info.find(',');
    auto one = MariaDbGtidPosition::Parse(info.substr(0, comma));
    if (!one.ok() || one->gtids().size() != 1) return std::nullopt;
    const MariaDbGtid& g = one->gtids().front();
    auto it = last.find(g.domain_id);
    if (it == last.end() || it->second.seqno < g.seqno) last[g.domain_id] = g;
    info = comma == std::string_view::npos ? std::string_view() : info.substr(comma + 1);
  }
  return last;
}

// The domains in which `current_pos` has what the cluster does not.
std::set<uint32_t> ErrantDomains(const MariaDbGtidPosition& current, const HasGtid& has) {
  std::set<uint32_t> out;
  for (const MariaDbGtid& g : current.gtids()) {
    if (!has(g)) out.insert(g.domain_id);
  }
  return out;
}

std::string Text(const MariaDbGtid& g) {
  return fmt::format("{}-{}-{}", g.domain_id, g.server_id, g.seqno);
}

// Events an errant transaction may hold for flashback to revert it: row
// changes and their table maps, and the commit.
bool RevertibleEvent(const BinlogEvent& e) {
  if (e.type == "Annotate_rows" || e.type == "Table_map" || e.type == "Xid") return true;
  if (e.type == "Query") return e.info == "COMMIT";
  for (const char* rows : {"Write_rows", "Update_rows", "Delete_rows"}) {
    if (e.type.rfind(rows, 0) == 0) return true;
  }
  return false;
}

// The scan of the events, in order.
struct Scan {
  std::set<uint32_t> errant_domains;
  std::map<uint32_t, MariaDbGtid> last_common;
  std::set<uint32_t> diverged;
  std::optional<size_t> first_file;  // index into `files`
  std::vector<std::string> files;
  std::vector<std::string> errant;
  bool in_errant_transaction = false;
  std::string why_not;

  void OnGtid(const BinlogEvent& e, const HasGtid& has) {
    in_errant_transaction = false;
    auto g = ParseBinlogEventGtid(e.info);
    if (!g || !errant_domains.count(g->domain_id)) return;
    if (!diverged.count(g->domain_id) && has(*g)) {
      last_common[g->domain_id] = *g;
      return;
    }
    diverged.insert(g->domain_id);
    errant.push_back(Text(*g));
    if (!first_file) first_file = files.size() - 1;
    in_errant_transaction = true;
    if (e.info.rfind("BEGIN ", 0) != 0 && why_not.empty()) {
      why_not =
          fmt::format("errant GTID {} is a DDL statement, which flashback cannot revert", Text(*g));
    }
  }

  void OnEvent(const BinlogEvent& e) {
    if (!in_errant_transaction) return;
    if (e.type == "Xid" || (e.type == "Query" && e.info == "COMMIT")) {
      in_errant_transaction = false;
      return;
    }
    if (RevertibleEvent(e) || !why_not.empty()) return;
    why_not = fmt::format(
        "errant transaction {} holds a {} event ({}), which flashback cannot "
        "revert",
        errant.back(), e.type, e.info.substr(0, 60));
  }
};

}  // namespace

HasGtid ReplicatedUpTo(const MariaDbGtidPosition& slave_pos) {
  return [slave_pos](const MariaDbGtid& g) {
    const MariaDbGtid* upto = slave_pos.Find(g.domain_id);
    return upto != nullptr && g.seqno <= upto->seqno;
  };
}

bool StartsBeforeErrant(std::string_view gtid_list_info, const HasGtid& has,
                        std::string_view current_pos) {
  auto current = MariaDbGtidPosition::Parse(current_pos);
  auto last = ParseGtidList(gtid_list_info);
  if (!current.ok() || !last) return false;
  for (uint32_t d : ErrantDomains(*current, has)) {
    auto it = last->find(d);
    if (it != last->end() && !has(it->second)) return false;
  }
  return true;
}

FlashbackPlan PlanFlashback(const std::vector<BinlogEvent>& events, const HasGtid& has,
                            std::string_view current_pos) {
  FlashbackPlan plan;
  auto current = MariaDbGtidPosition::Parse(current_pos);
  if (!current.ok()) {
    plan.why_not = current.status().message();
    return plan;
  }
  Scan scan;
  scan.errant_domains = ErrantDomains(*current, has);
  for (const BinlogEvent& e : events) {
    if (scan.files.empty() || scan.files.back() != e.file) {
      scan.files.push_back(e.file);
      scan.in_errant_transaction = false;
    }
    if (e.type == "Gtid_list" && scan.files.size() == 1) {
      // The state before the first file read: where the common history stands.
      auto last = ParseGtidList(e.info);
      if (!last) continue;
      for (uint32_t d : scan.errant_domains) {
        auto it = last->find(d);
        if (it == last->end()) continue;
        if (has(it->second)) {
          scan.last_common[d] = it->second;
        } else if (scan.why_not.empty()) {
          // The first errant transaction is in a binlog purged since.
          scan.why_not = fmt::format(
              "the binlogs no longer hold the first errant transaction of domain {} (purged)", d);
        }
      }
    } else if (e.type == "Gtid") {
      scan.OnGtid(e, has);
    } else {
      scan.OnEvent(e);
    }
  }
  for (uint32_t d : scan.errant_domains) {
    if (!scan.diverged.count(d) && scan.why_not.empty()) {
      scan.why_not = fmt::format(
          "the binlogs no longer hold the errant transactions of domain {} (purged)", d);
    }
  }
  plan.why_not = scan.why_not;
  plan.errant = scan.errant;
  if (scan.first_file) {
    plan.files.assign(scan.files.begin() + static_cast<ptrdiff_t>(*scan.first_file),
                      scan.files.end());
  }
  std::vector<std::string> start, domains, position;
  for (uint32_t d : scan.errant_domains) {
    domains.push_back(std::to_string(d));
    auto it = scan.last_common.find(d);
    if (it != scan.last_common.end()) start.push_back(Text(it->second));
  }
  for (const MariaDbGtid& g : current->gtids()) {
    if (!scan.errant_domains.count(g.domain_id)) {
      position.push_back(Text(g));
    } else if (auto it = scan.last_common.find(g.domain_id); it != scan.last_common.end()) {
      position.push_back(Text(it->second));
    }
  }
  plan.start_position = fmt::format("{}", fmt::join(start, ","));
  plan.domains = fmt::format("{}", fmt::join(domains, ","));
  plan.position = fmt::format("{}", fmt::join(position, ","));
  return plan;
}

}  // namespace manage::cluster
