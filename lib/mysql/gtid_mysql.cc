// MySqlGtidSet: parsing, printing and interval-set arithmetic.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "mysql/gtid.h"
#include "mysql/text.h"

namespace manage::mysql {
namespace {

// The largest transaction number MySQL accepts (GNO_END - 1).
constexpr uint64_t kMaxGno = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 1;

Status BadSet(std::string_view text, const std::string& why) {
  return Status::InvalidArgument("bad MySQL GTID set '" + std::string(text) + "': " + why);
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

// Tags (MySQL 8.3+): a letter or '_' then up to 31 letters, digits or '_'.
bool IsTag(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  auto word = [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!word(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return word(c) || (c >= '0' && c <= '9'); });
}

Result<GtidInterval> ParseInterval(std::string_view text, std::string_view whole) {
  size_t dash = text.find('-');
  auto first = internal::ParseUint(internal::Trim(text.substr(0, dash)));
  auto last = dash == std::string_view::npos
                  ? first
                  : internal::ParseUint(internal::Trim(text.substr(dash + 1)));
  if (!first || !last) return BadSet(whole, "bad interval '" + std::string(text) + "'");
  if (*first == 0 || *last < *first || *last > kMaxGno) {
    return BadSet(whole, "invalid interval '" + std::string(text) + "'");
  }
  return GtidInterval{*first, *last};
}

// Sorts and merges overlapping or adjacent intervals.
void Normalize(std::vector<GtidInterval>& v) {
  std::sort(v.begin(), v.end(),
            [](const GtidInterval& x, const GtidInterval& y) { return x.first < y.first; });
  std::vector<GtidInterval> out;
  for (const GtidInterval& i : v) {
    if (!out.empty() && i.first <= out.back().last + 1) {
      out.back().last = std::max(out.back().last, i.last);
    } else {
      out.push_back(i);
    }
  }
  v = std::move(out);
}

// a minus b; both sorted and merged.
std::vector<GtidInterval> Subtract(const std::vector<GtidInterval>& a,
                                   const std::vector<GtidInterval>& b) {
  std::vector<GtidInterval> out;
  size_t j = 0;
  for (const GtidInterval& x : a) {
    while (j < b.size() && b[j].last < x.first) ++j;
    uint64_t from = x.first;
    bool covered = false;
    for (size_t k = j; k < b.size() && b[k].first <= x.last; ++k) {
      if (b[k].first > from) out.push_back({from, b[k].first - 1});
      if (b[k].last >= x.last) {
        covered = true;
        break;
      }
      from = b[k].last + 1;
    }
    if (!covered) out.push_back({from, x.last});
  }
  return out;
}

// Parses one "uuid[:tag]:interval[:interval...]" element into `set`.
Status ParseElement(std::string_view element, std::string_view whole,
                    std::map<MySqlGtidSet::Key, std::vector<GtidInterval>>& set) {
  std::vector<std::string_view> parts = internal::Split(element, ':');
  std::string_view uuid = internal::Trim(parts[0]);
  if (!IsUuid(uuid)) return BadSet(whole, "bad uuid '" + std::string(uuid) + "'");
  MySqlGtidSet::Key key{internal::Lower(uuid), ""};
  bool need_interval = true;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = internal::Trim(parts[i]);
    if (!part.empty() && part.front() >= '0' && part.front() <= '9') {
      Result<GtidInterval> interval = ParseInterval(part, whole);
      if (!interval.ok()) return interval.status();
      set[key].push_back(*interval);
      need_interval = false;
      continue;
    }
    if (need_interval && i > 1) return BadSet(whole, "tag without intervals");
    if (!IsTag(part)) return BadSet(whole, "bad tag '" + std::string(part) + "'");
    key.second = internal::Lower(part);
    need_interval = true;
  }
  if (need_interval) return BadSet(whole, "no intervals after '" + std::string(element) + "'");
  return Status::Ok();
}

}  // namespace

Result<MySqlGtidSet> MySqlGtidSet::Parse(std::string_view text) {
  MySqlGtidSet set;
  if (internal::Trim(text).empty()) return set;
  for (std::string_view piece : internal::Split(text, ',')) {
    std::string_view element = internal::Trim(piece);
    if (element.empty()) return BadSet(text, "empty element");
    MANAGE_RETURN_IF_ERROR(ParseElement(element, text, set.sets_));
  }
  for (auto& [key, intervals] : set.sets_) Normalize(intervals);
  return set;
}

std::string MySqlGtidSet::ToString() const {
  std::string out;
  const std::string* uuid = nullptr;
  for (const auto& [key, intervals] : sets_) {
    if (uuid == nullptr || *uuid != key.first) {
      if (!out.empty()) out += ',';
      out += key.first;
      uuid = &key.first;
    }
    if (!key.second.empty()) {
      out += ':';
      out += key.second;
    }
    for (const GtidInterval& i : intervals) {
      out += ':';
      out += std::to_string(i.first);
      if (i.last != i.first) {
        out += '-';
        out += std::to_string(i.last);
      }
    }
  }
  return out;
}

uint64_t MySqlGtidSet::Count() const {
  uint64_t total = 0;
  for (const auto& [key, intervals] : sets_) {
    for (const GtidInterval& i : intervals) {
      uint64_t n = i.last - i.first + 1;
      if (total > std::numeric_limits<uint64_t>::max() - n) {
        return std::numeric_limits<uint64_t>::max();
      }
      total += n;
    }
  }
  return total;
}

bool MySqlGtidSet::IsSubsetOf(const MySqlGtidSet& other) const { return Difference(other).empty(); }

MySqlGtidSet MySqlGtidSet::Union(const MySqlGtidSet& other) const {
  MySqlGtidSet out = *this;
  for (const auto& [key, intervals] : other.sets_) {
    std::vector<GtidInterval>& mine = out.sets_[key];
    mine.insert(mine.end(), intervals.begin(), intervals.end());
    Normalize(mine);
  }
  return out;
}

MySqlGtidSet MySqlGtidSet::Difference(const MySqlGtidSet& other) const {
  MySqlGtidSet out;
  for (const auto& [key, intervals] : sets_) {
    auto it = other.sets_.find(key);
    std::vector<GtidInterval> rest =
        it == other.sets_.end() ? intervals : Subtract(intervals, it->second);
    if (!rest.empty()) out.sets_[key] = std::move(rest);
  }
  return out;
}

GtidOrder Compare(const MySqlGtidSet& a, const MySqlGtidSet& b) {
  bool a_in_b = a.IsSubsetOf(b);
  bool b_in_a = b.IsSubsetOf(a);
  if (a_in_b && b_in_a) return GtidOrder::kEqual;
  if (a_in_b) return GtidOrder::kBehind;
  if (b_in_a) return GtidOrder::kAhead;
  return GtidOrder::kDiverged;
}

}  // namespace manage::mysql
