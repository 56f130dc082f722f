// Failover decisions, as pure functions over plain structs (table-tested in
// test/unit/cluster/failover_test.cc). The I/O around them is in
// lib/hooks/ (coordinator.cc, switchover.cc); the protocol is described in
// hooks/failover.h and in the README. Errant transactions: cluster/errant.h.
//
//   DecideFailover   may an automatic failover start now? (lock, cooldown)
//   ChooseCandidate  which node becomes primary, by GTID, priority, semi-sync
//   history          the JSON list of failover/switchover events in Consul KV
//   designation      the failover lock's value: who the coordinator chose
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "mysql/flavor.h"
#include "mysql/gtid.h"

namespace manage::cluster {

using SystemTime = std::chrono::system_clock::time_point;

// ---- When to fail over -------------------------------------------------------

struct FailoverInputs {
  bool lock_held = false;                    // PRIMARY_KEY has a holder now
  std::string last_primary;                  // PRIMARY_KEY's value: holder or last holder
  bool last_primary_passing = false;         // it is still a passing ${SERVICE_NAME} instance
  std::optional<SystemTime> last_automatic;  // time of the newest automatic failover
  SystemTime now;
  std::chrono::seconds cooldown{0};
  bool forced = false;  // `manage failover --force`
  // Set while PRIMARY_KEY is missing, not just free (Consul lost its state):
  // how long this node has seen it missing. No failover, forced or not, before
  // lock_loss_grace (lease.h, LockLossGrace): the last primary may be writable.
  std::optional<std::chrono::milliseconds> lock_missing_for;
  std::chrono::milliseconds lock_loss_grace{0};
};

enum class FailoverGate {
  kProceed,    // choose and promote a new primary
  kNotNeeded,  // a primary holds the lock
  kCooldown,   // too soon after the last automatic failover; the last primary may return
};

struct FailoverDecision {
  FailoverGate gate = FailoverGate::kNotNeeded;
  std::string reason;
};

// The cooldown only holds back a failover while the last primary is still
// registered and passing (it lost its session but may take the lock again);
// with no primary at all, the cluster fails over whatever the cooldown. A
// missing PRIMARY_KEY holds it back for its grace, also when forced.
FailoverDecision DecideFailover(const FailoverInputs& in);

// ---- Who becomes primary -----------------------------------------------------

struct Candidate {
  std::string node;
  bool reachable = false;
  std::string error;     // why it could not be read (reachable == false)
  std::string executed;  // GTIDs applied (MariaDB gtid_current_pos)
  // What it got from the primary: executed plus what its relay log holds;
  // for a node with errant transactions, without them.
  std::string received;
  std::string errant;      // its own writes as a replica (cluster/errant.h); never a candidate
  bool caught_up = false;  // applied its whole relay log within MAX_FAILOVER_LAG
  int priority = 0;        // FAILOVER_PRIORITY
  bool no_failover = false;
  bool semi_sync = false;  // a semi-sync replica: it acknowledged the primary's commits
};

struct CandidateChoice {
  std::string node;  // the new primary
  std::string gtid;  // what it must have applied before it leads
  std::string reason;
  std::string source;  // when not empty: it must first catch up from this node
};

// The candidate that has every transaction any reachable candidate received
// (never one that lacks something another has), among those allowed to lead,
// caught up and without errant transactions (however advanced those make it
// look); ties go to the highest FAILOVER_PRIORITY, then a semi-sync replica,
// then the smallest name. When only NO_FAILOVER nodes have everything, the
// best node that may lead is chosen with one of them as its source: it
// catches up from it first (orchestrator's regroup). FailedPrecondition (saying why) when no
// candidate qualifies; InvalidArgument for an unparsable GTID.
Result<CandidateChoice> ChooseCandidate(mysql::Flavor flavor, const std::vector<Candidate>& all);

// Everything in either: MariaDB, per domain the later GTID (a's when they
// diverge); MySQL, the union of the sets. A candidate's executed GTIDs plus its
// relay log (Gtid_IO_Pos) is what it "received".
Result<std::string> GtidUnion(mysql::Flavor flavor, std::string_view a, std::string_view b);

// FAILOVER_PRIORITY and NO_FAILOVER of another node, from its service tags
// ("failover-priority=N", "no-failover").
struct NodeTraits {
  int priority = 0;
  bool no_failover = false;
};
NodeTraits ParseNodeTags(const std::vector<std::string>& tags);

// ---- History -----------------------------------------------------------------

struct CandidateRecord {
  std::string node;
  std::string gtid;
  bool operator==(const CandidateRecord&) const = default;
};

struct FailoverEvent {
  SystemTime time;
  std::string kind;  // "failover", "forced failover" or "switchover"
  std::string old_primary;
  std::string new_primary;
  std::vector<CandidateRecord> candidates;
  std::string reason;
  std::chrono::milliseconds duration{0};
  bool Automatic() const { return kind == "failover"; }
};

// The newest events are last; at most kHistoryLimit are kept.
inline constexpr size_t kHistoryLimit = 50;
std::string SerializeHistory(const std::vector<FailoverEvent>& events);
Result<std::vector<FailoverEvent>> ParseHistory(std::string_view json);
std::vector<FailoverEvent> AppendEvent(std::vector<FailoverEvent> history, FailoverEvent event);
std::optional<SystemTime> LastAutomatic(const std::vector<FailoverEvent>& history);

// ---- Designation ---------------------------------------------------------------

// The failover lock's value while a coordinator holds it.
struct Designation {
  std::string coordinator;
  std::string kind;  // as FailoverEvent::kind
  std::string old_primary;
  std::string candidate;  // empty while still choosing
  std::string gtid;       // the candidate must have all of these before it promotes
  std::string source;     // when not empty: replicate from this node to get them first
  bool operator==(const Designation&) const = default;
};

std::string SerializeDesignation(const Designation& d);
Result<Designation> ParseDesignation(std::string_view json);

}  // namespace manage::cluster
