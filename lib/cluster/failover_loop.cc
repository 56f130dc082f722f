#include "cluster/failover_loop.h"

namespace manage::cluster {

const char* FailoverStepName(FailoverStep step) {
  switch (step) {
    case FailoverStep::kDone:
      return "done";
    case FailoverStep::kFollow:
      return "follow";
    case FailoverStep::kArm:
      return "arm";
    case FailoverStep::kPollFast:
      return "poll-fast";
    case FailoverStep::kCheckAdvertised:
      return "check-advertised";
    case FailoverStep::kPoll:
      return "poll";
    case FailoverStep::kPromote:
      return "promote";
    case FailoverStep::kCoordinate:
      return "coordinate";
    case FailoverStep::kNotMember:
      return "not-member";
    case FailoverStep::kGiveUp:
      return "give-up";
  }
  return "?";
}

namespace {

// PRIMARY_KEY is held by another session.
FailoverStep WhileHeld(const FailoverObservation& o, bool designated) {
  if (o.lock.HeldBy(o.my_session)) return FailoverStep::kDone;
  // Our own name under a session we do not hold: health waits it out.
  if (o.lock.value == o.me) return FailoverStep::kDone;
  if (designated) {
    // A switchover names this node: be ready to take the lock the moment the
    // old primary lets go.
    return o.armed ? FailoverStep::kPollFast : FailoverStep::kArm;
  }
  if (o.primary_gone && o.within_gone_wait && !o.lock.failover_held) {
    // The advertised primary went away; its session dies with its check, soon.
    if (!o.holder_advertised) return FailoverStep::kCheckAdvertised;
    if (!*o.holder_advertised) return FailoverStep::kPoll;
  }
  return FailoverStep::kFollow;
}

}  // namespace

FailoverStep NextFailoverStep(const FailoverObservation& o) {
  if (o.past_deadline) return FailoverStep::kGiveUp;
  bool designated = o.designation && o.designation->candidate == o.me;
  if (o.lock.held) return WhileHeld(o, designated);
  if (designated) return FailoverStep::kPromote;
  if (o.lock.failover_held) return FailoverStep::kPoll;
  if (!o.part_of_cluster) return FailoverStep::kNotMember;
  return FailoverStep::kCoordinate;
}

}  // namespace manage::cluster
