// MariaDbGtidPosition: parsing, printing and the per-domain comparison rule.
#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include "mysql/gtid.h"
#include "mysql/text.h"

namespace manage::mysql {
namespace {

Status BadGtid(std::string_view gtid, const char* why) {
  return Status::InvalidArgument("bad MariaDB GTID '" + std::string(gtid) + "': " + why);
}

Result<MariaDbGtid> ParseOne(std::string_view text) {
  std::vector<std::string_view> parts = internal::Split(text, '-');
  if (parts.size() != 3) return BadGtid(text, "want domain-server-seqno");
  auto domain = internal::ParseUint(internal::Trim(parts[0]));
  auto server = internal::ParseUint(internal::Trim(parts[1]));
  auto seqno = internal::ParseUint(internal::Trim(parts[2]));
  constexpr uint64_t kMax32 = std::numeric_limits<uint32_t>::max();
  if (!domain || *domain > kMax32) return BadGtid(text, "bad domain id");
  if (!server || *server > kMax32) return BadGtid(text, "bad server id");
  if (!seqno) return BadGtid(text, "bad sequence number");
  return MariaDbGtid{static_cast<uint32_t>(*domain), static_cast<uint32_t>(*server), *seqno};
}

// How position A stands against B in one domain; nullptr means "absent".
enum class DomainOrder { kEqual, kBehind, kAhead, kDiverged };

DomainOrder CompareDomain(const MariaDbGtid* a, const MariaDbGtid* b) {
  if (a == nullptr) return DomainOrder::kBehind;
  if (b == nullptr) return DomainOrder::kAhead;
  if (a->seqno < b->seqno) return DomainOrder::kBehind;
  if (a->seqno > b->seqno) return DomainOrder::kAhead;
  return a->server_id == b->server_id ? DomainOrder::kEqual : DomainOrder::kDiverged;
}

}  // namespace

Result<MariaDbGtidPosition> MariaDbGtidPosition::Parse(std::string_view text) {
  MariaDbGtidPosition pos;
  if (internal::Trim(text).empty()) return pos;
  for (std::string_view piece : internal::Split(text, ',')) {
    std::string_view item = internal::Trim(piece);
    if (item.empty()) return BadGtid(text, "empty element");
    Result<MariaDbGtid> gtid = ParseOne(item);
    if (!gtid.ok()) return gtid.status();
    if (pos.Find(gtid->domain_id) != nullptr) {
      return BadGtid(text, "domain given twice");
    }
    pos.gtids_.push_back(*gtid);
  }
  std::sort(pos.gtids_.begin(), pos.gtids_.end(),
            [](const MariaDbGtid& x, const MariaDbGtid& y) { return x.domain_id < y.domain_id; });
  return pos;
}

Result<MariaDbGtidPosition> PositionOfState(std::string_view state) {
  std::map<uint32_t, MariaDbGtid> newest;
  if (!internal::Trim(state).empty()) {
    for (std::string_view piece : internal::Split(state, ',')) {
      Result<MariaDbGtid> gtid = ParseOne(internal::Trim(piece));
      if (!gtid.ok()) return gtid.status();
      auto [it, added] = newest.emplace(gtid->domain_id, *gtid);
      if (!added && it->second.seqno < gtid->seqno) it->second = *gtid;
    }
  }
  std::string text;
  for (const auto& [domain, gtid] : newest) {
    if (!text.empty()) text += ",";
    text += std::to_string(gtid.domain_id) + "-" + std::to_string(gtid.server_id) + "-" +
            std::to_string(gtid.seqno);
  }
  return MariaDbGtidPosition::Parse(text);
}

std::string MariaDbGtidPosition::ToString() const {
  std::string out;
  for (const MariaDbGtid& g : gtids_) {
    if (!out.empty()) out += ',';
    out += std::to_string(g.domain_id) + "-" + std::to_string(g.server_id) + "-" +
           std::to_string(g.seqno);
  }
  return out;
}

const MariaDbGtid* MariaDbGtidPosition::Find(uint32_t domain_id) const {
  for (const MariaDbGtid& g : gtids_) {
    if (g.domain_id == domain_id) return &g;
  }
  return nullptr;
}

bool MariaDbGtidPosition::IsSubsetOf(const MariaDbGtidPosition& other) const {
  return Difference(other).empty();
}

MariaDbGtidPosition MariaDbGtidPosition::Difference(const MariaDbGtidPosition& other) const {
  MariaDbGtidPosition out;
  for (const MariaDbGtid& g : gtids_) {
    DomainOrder order = CompareDomain(&g, other.Find(g.domain_id));
    if (order == DomainOrder::kAhead || order == DomainOrder::kDiverged) {
      out.gtids_.push_back(g);
    }
  }
  return out;
}

GtidOrder Compare(const MariaDbGtidPosition& a, const MariaDbGtidPosition& b) {
  bool ahead = false;
  bool behind = false;
  auto note = [&](DomainOrder order) {
    if (order == DomainOrder::kDiverged) ahead = behind = true;
    if (order == DomainOrder::kAhead) ahead = true;
    if (order == DomainOrder::kBehind) behind = true;
  };
  for (const MariaDbGtid& g : a.gtids()) note(CompareDomain(&g, b.Find(g.domain_id)));
  for (const MariaDbGtid& g : b.gtids()) {
    if (a.Find(g.domain_id) == nullptr) note(DomainOrder::kBehind);
  }
  if (ahead && behind) return GtidOrder::kDiverged;
  if (ahead) return GtidOrder::kAhead;
  if (behind) return GtidOrder::kBehind;
  return GtidOrder::kEqual;
}

}  // namespace manage::mysql
