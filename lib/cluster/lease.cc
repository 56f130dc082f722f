#include "cluster/lease.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace manage::cluster {

LeaseTiming LeaseTimingOf(const Config& config) {
  LeaseTiming t;
  t.session_ttl = config.session_ttl;
  t.check_ttl = config.health.ttl;
  t.lock_delay = config.lock_delay;
  t.interval = config.health.Interval();
  t.pass = kPassBound;
  t.fence = kFenceBound;
  t.enabled = !config.consul_agent;
  return t;
}

milliseconds EarliestTakeover(const LeaseProof& proof, const LeaseTiming& timing) {
  return std::min(proof.renewed + timing.session_ttl, proof.heartbeat + timing.check_ttl) +
         timing.lock_delay;
}

LeaseDecision DecideLease(const std::optional<LeaseProof>& proof, milliseconds pass_start,
                          milliseconds now, const LeaseTiming& timing) {
  if (!timing.enabled) {
    return {false, milliseconds(0),
            "no lease with CONSUL_AGENT: the session also depends on this container's agent"};
  }
  if (!proof) return {false, milliseconds(0), "no lease: this node never proved the lock here"};
  if (proof->renewed > now || proof->heartbeat > now) {
    return {false, milliseconds(0), "no lease: the last proof is not from this boot"};
  }
  const milliseconds last_start =
      EarliestTakeover(*proof, timing) - std::max(timing.interval, timing.pass) - timing.fence;
  if (pass_start > last_start) {
    return {false, milliseconds(0),
            fmt::format("the lease ran out {} ms ago", (pass_start - last_start).count())};
  }
  return {true, last_start - pass_start,
          fmt::format("another node can take the lock no earlier than {} ms from now",
                      (EarliestTakeover(*proof, timing) - pass_start).count())};
}

bool LeaseRunning(const std::optional<LeaseProof>& proof, milliseconds now,
                  const LeaseTiming& timing) {
  if (!timing.enabled || !proof) return false;
  if (proof->renewed > now || proof->heartbeat > now) return false;
  return now < EarliestTakeover(*proof, timing);
}

milliseconds LockLossGrace(const LeaseTiming& timing) {
  return std::max(timing.session_ttl + timing.lock_delay, EveryNodePassedWithin(timing));
}

milliseconds EveryNodePassedWithin(const LeaseTiming& timing) {
  return std::max(timing.interval, timing.pass) + timing.fence;
}

std::string FormatLeaseProof(const LeaseProof& proof) {
  return fmt::format("{} {}", proof.renewed.count(), proof.heartbeat.count());
}

std::optional<LeaseProof> ParseLeaseProof(std::string_view text) {
  int64_t values[2] = {0, 0};
  const char* at = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 2; ++i) {
    if (i == 1) {
      if (at == end || *at != ' ') return std::nullopt;
      ++at;
    }
    auto [next, ec] = std::from_chars(at, end, values[i]);
    if (ec != std::errc() || values[i] < 0) return std::nullopt;
    at = next;
  }
  if (at != end) return std::nullopt;
  return LeaseProof{milliseconds(values[0]), milliseconds(values[1])};
}

}  // namespace manage::cluster
