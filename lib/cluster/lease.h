// The primary's lease: how long a primary that last proved it holds
// PRIMARY_KEY may stay writable while Consul does not answer (no leader during
// an election, or unreachable), whether it may take back a PRIMARY_KEY that
// Consul lost, and how long the others wait after Consul lost PRIMARY_KEY
// altogether. Pure functions, table-tested in test/unit/cluster/lease_test.cc;
// the README's "The lease" has the argument.
//
// Nobody else can take PRIMARY_KEY before Consul invalidates the primary's
// session and the lock-delay D has passed, or the primary releases it (a
// switchover, which forgets the proof first). The session is tied only to the
// primary's own TTL check (PrimaryLock::Spec; not to serfHealth, which Consul
// can fail within seconds for reasons the primary cannot see), so Consul
// invalidates it no earlier than
//   - SESSION_TTL after the leader received the last renewal (Consul's
//     contract: the TTL is a lower bound), and
//   - HEALTH_TTL after the agent accepted the check's last heartbeat.
// A primary that sent a renewal at r and a heartbeat at h, both answered,
// therefore knows that nobody holds the lock before
//   takeover = min(r + SESSION_TTL, h + HEALTH_TTL) + D.
// Its health passes (of either job, `health` and `health --primary`) start at
// most max(I, P) apart (ContainerPilot starts the next check when the previous
// one ends, if that is later; P, config.h's kPassBound, is the longest a pass
// that does not fence runs), and each fences within H (kFenceBound: a `health`
// pass's watchdog enforces it) unless it proves the lock or its lease covers
// it. A pass that cannot hear from Consul keeps the node writable only if the
// next pass would still fence in time:
//   start + max(I, P) + H <= takeover.
// It keeps it through MakeWritable (hooks/local_db.h), as a proving pass does:
// that disarms the pass's watchdog, and extends mysqld's write lease, never
// past takeover. Such a pass still reports a failure: ContainerPilot
// heartbeats only after a passing check, with no timeout, and a heartbeat to a
// Consul that accepts the connection and never answers would block that job's
// checks for good. The pass heartbeats the check itself instead, within its
// own request timeout. With CONSUL_AGENT the session must also depend on the
// container's own agent's serfHealth (the service check lives on that agent
// and dies with it), which Consul's servers can fail within seconds of a
// partition: there is no lease then.
//
// Times are milliseconds since boot (Clock::SinceBoot), comparable between the
// hooks that record and read them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace manage::cluster {

using std::chrono::milliseconds;

struct LeaseTiming {
  milliseconds session_ttl{0};  // SESSION_TTL
  milliseconds check_ttl{0};    // HEALTH_TTL
  milliseconds lock_delay{0};   // SESSION_LOCK_DELAY
  milliseconds interval{0};     // I: the longer of HEALTH_INTERVAL and PRIMARY_HEALTH_INTERVAL
  milliseconds pass{0};         // P: the longest health pass that does not fence
  milliseconds fence{0};        // H: the longest from a pass's start to the end of its fence
  bool enabled = true;          // false with CONSUL_AGENT
};

// The timing of `config`, with P = kPassBound and H = kFenceBound.
LeaseTiming LeaseTimingOf(const Config& config);

// When the requests of the last pass that proved the lock were sent.
struct LeaseProof {
  milliseconds renewed{0};    // the session renewal (answered 200)
  milliseconds heartbeat{0};  // the check's heartbeat (answered 200)
  bool operator==(const LeaseProof&) const = default;
};

// The earliest moment another node could hold PRIMARY_KEY.
milliseconds EarliestTakeover(const LeaseProof& proof, const LeaseTiming& timing);

struct LeaseDecision {
  bool keep = false;     // stay writable without an answer from Consul
  milliseconds left{0};  // until the last pass that may still keep it
  std::string reason;
};

// May a pass of the primary that started at `pass_start` stay writable
// although Consul did not answer it (decided at `now`)? Never without a proof,
// never with a proof from the future (one recorded before a reboot). A proof
// newer than the pass (another pass recorded it meanwhile) is as good.
LeaseDecision DecideLease(const std::optional<LeaseProof>& proof, milliseconds pass_start,
                          milliseconds now, const LeaseTiming& timing);

// Does the proof still show, at `now`, that nobody but this node can have
// held PRIMARY_KEY since it was made (now < EarliestTakeover)? Never without
// a proof, with a proof from the future (before a reboot), or with
// CONSUL_AGENT. Consul that lost its state lost PRIMARY_KEY before `now`: a
// node whose proof still runs was its last holder, and may take it back
// (role.h); any other node, a former primary demoted while it was away
// included, waits LockLossGrace and goes through a failover.
bool LeaseRunning(const std::optional<LeaseProof>& proof, milliseconds now,
                  const LeaseTiming& timing);

// How long a node that did not hold PRIMARY_KEY waits, from the moment it
// first saw the key missing (Consul restarted without its state), before it
// may take the lock or fail over: the last primary, whose session Consul lost
// with the rest, may stay writable that long, under its lease (its last proof
// predates the loss, so it ends by SESSION_TTL + D after it) or until its next
// pass sees the key gone (max(I, P) + H).
milliseconds LockLossGrace(const LeaseTiming& timing);

// How long until every live node has begun and ended a health pass after a
// given moment: max(I, P) + H. A new node that sees PRIMARY_KEY missing waits
// this long before it looks for a running cluster (role.h): by then each
// replica of a cluster whose state Consul lost has registered its service
// again and passes its check.
milliseconds EveryNodePassedWithin(const LeaseTiming& timing);

// The state-dir form of a proof, "<renewed ms> <heartbeat ms>"; nullopt for
// anything unreadable.
std::string FormatLeaseProof(const LeaseProof& proof);
std::optional<LeaseProof> ParseLeaseProof(std::string_view text);

}  // namespace manage::cluster
