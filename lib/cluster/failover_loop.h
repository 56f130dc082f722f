// The failover hook's loop (on_change, `manage failover`) as a pure state
// machine: each turn, the hook reads PRIMARY_KEY and the failover lock, fills
// a FailoverObservation, and does the one step NextFailoverStep names, until a
// step ends the hook. Table-tested in test/unit/cluster/failover_loop_test.cc;
// the driver is RunFailover in lib/hooks/coordinator.cc.
#pragma once

#include <optional>
#include <string>

#include "cluster/failover.h"
#include "cluster/role.h"

namespace manage::cluster {

struct FailoverObservation {
  LockView lock;                           // PRIMARY_KEY and the failover lock, just read
  std::optional<Designation> designation;  // the failover lock's value, when it parses
  std::string my_session;                  // this node's stored primary session
  std::string me;                          // this node's name
  bool part_of_cluster = false;  // it has a role, bootstrapped, or was restored from a snapshot
  bool armed = false;            // it already told a switchover that it is ready
  // on_change: the advertised primary went away, and the lock may still be
  // held for a moment by its dying session.
  bool primary_gone = false;
  bool within_gone_wait = false;  // that session may still be alive (2x TTL + lock-delay)
  // Whether the holder is still advertised as ${SERVICE_NAME}-primary; asked
  // only when a step needs it (kCheckAdvertised).
  std::optional<bool> holder_advertised;
  bool past_deadline = false;  // the hook's whole budget is spent
};

enum class FailoverStep {
  kDone,             // nothing to do: this node holds the lock, or health waits its old session out
  kFollow,           // a primary holds the lock: replicate from it
  kArm,              // a switchover names this node: say it is ready, then poll fast
  kPollFast,         // armed: poll again in a few ms, to take the lock the moment it is released
  kCheckAdvertised,  // look the holder up among the advertised primaries, then decide again
  kPoll,             // wait: the holder is dying, or another node coordinates
  kPromote,          // designated and the lock is free: promote this node
  kCoordinate,       // nobody holds or coordinates: try to coordinate
  kNotMember,        // a new node: its first health passes decide its role
  kGiveUp,           // the budget is spent without a new primary
};

const char* FailoverStepName(FailoverStep step);

FailoverStep NextFailoverStep(const FailoverObservation& o);

}  // namespace manage::cluster
