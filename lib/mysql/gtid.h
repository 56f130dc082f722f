// GTID positions (MariaDB) and GTID sets (MySQL) as values: parse, print
// canonically, compare. Used to pick the most advanced failover candidate and to
// find errant transactions. Pure and thread-safe; parse errors are
// InvalidArgument. Whitespace (MySQL prints newlines in gtid_executed) is
// ignored around every separator.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "mysql/flavor.h"

namespace manage::mysql {

// How server A's transactions relate to server B's.
enum class GtidOrder {
  kEqual,     // the same transactions
  kBehind,    // A lacks some of B's and has nothing B lacks
  kAhead,     // A has all of B's and more
  kDiverged,  // each has something the other lacks: A is errant relative to B
};
const char* GtidOrderName(GtidOrder order);

// MariaDB GTID "domain-server-seqno".
struct MariaDbGtid {
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint64_t seqno = 0;
  bool operator==(const MariaDbGtid&) const = default;
};

// A MariaDB position "D-S-N[,D-S-N...]": the last GTID applied in each
// replication domain, at most one per domain.
//
// Comparison rule. Within a domain, seqnos are assumed to grow along one history,
// so a higher seqno includes every lower one (the rule MASTER_GTID_WAIT and
// gtid_slave_pos follow). The same domain and seqno with different server_ids
// means two servers wrote different transactions at that point: the histories
// diverged, and neither position contains the other. A position cannot reveal a
// foreign transaction hidden under a higher seqno of the other server.
class MariaDbGtidPosition {
 public:
  MariaDbGtidPosition() = default;
  // "" (or only whitespace) is the empty position. InvalidArgument for bad
  // numbers, missing parts or a domain given twice.
  static Result<MariaDbGtidPosition> Parse(std::string_view text);

  std::string ToString() const;  // sorted by domain: "0-1-100,1-2-7"
  bool empty() const { return gtids_.empty(); }
  const std::vector<MariaDbGtid>& gtids() const { return gtids_; }  // sorted by domain
  // The GTID for `domain_id`, or nullptr.
  const MariaDbGtid* Find(uint32_t domain_id) const;

  // True when `other` has every transaction of this position.
  bool IsSubsetOf(const MariaDbGtidPosition& other) const;
  // This position's GTIDs in domains where `other` is missing, behind or diverged.
  MariaDbGtidPosition Difference(const MariaDbGtidPosition& other) const;
  bool operator==(const MariaDbGtidPosition&) const = default;

 private:
  std::vector<MariaDbGtid> gtids_;
};

GtidOrder Compare(const MariaDbGtidPosition& a, const MariaDbGtidPosition& b);

// A binlog state ("D-S-N,..." with one GTID per domain and server, as in
// gtid_binlog_state or a Gtid_list event) as a position: per domain, the GTID
// with the highest sequence number. InvalidArgument when it does not parse.
Result<MariaDbGtidPosition> PositionOfState(std::string_view state);

// Transaction numbers first..last, inclusive, first >= 1.
struct GtidInterval {
  uint64_t first = 1;
  uint64_t last = 1;
  bool operator==(const GtidInterval&) const = default;
};

// A MySQL GTID set "uuid:1-5:7,uuid2:1-3", with 8.3+ tags ("uuid:tag:1-3")
// accepted. UUIDs and tags are kept in lower case; intervals are merged.
class MySqlGtidSet {
 public:
  // (source uuid, tag); the tag is "" for untagged transactions.
  using Key = std::pair<std::string, std::string>;

  MySqlGtidSet() = default;
  // "" (or only whitespace) is the empty set. InvalidArgument for a malformed
  // uuid or tag, a 0, reversed or overflowing interval, or a uuid without
  // intervals.
  static Result<MySqlGtidSet> Parse(std::string_view text);

  // Sorted by uuid, untagged intervals before tags: "uuid:1-5:7,uuid2:1-3".
  std::string ToString() const;
  bool empty() const { return sets_.empty(); }
  // The number of transactions, saturating at UINT64_MAX.
  uint64_t Count() const;
  const std::map<Key, std::vector<GtidInterval>>& intervals() const { return sets_; }

  bool IsSubsetOf(const MySqlGtidSet& other) const;
  MySqlGtidSet Union(const MySqlGtidSet& other) const;
  // The transactions of this set that `other` lacks.
  MySqlGtidSet Difference(const MySqlGtidSet& other) const;
  bool operator==(const MySqlGtidSet&) const = default;

 private:
  std::map<Key, std::vector<GtidInterval>> sets_;
};

GtidOrder Compare(const MySqlGtidSet& a, const MySqlGtidSet& b);

// The same operations on text, for either flavour. Each fails with
// InvalidArgument when an argument does not parse.
Result<std::string> CanonicalGtid(Flavor flavor, std::string_view text);
// Whether every transaction of `a` is in `b`.
Result<bool> GtidIsSubset(Flavor flavor, std::string_view a, std::string_view b);
// What `a` has that `b` lacks, printed canonically ("" when nothing).
Result<std::string> GtidErrant(Flavor flavor, std::string_view a, std::string_view b);
Result<GtidOrder> CompareGtid(Flavor flavor, std::string_view a, std::string_view b);

}  // namespace manage::mysql
