#include "serve/checks.h"

#include <fmt/format.h>

namespace manage::serve {

Verdict CheckFresh(const LocalFacts& facts, SteadyTime now, std::chrono::milliseconds max_age) {
  if (facts.taken == SteadyTime{}) return {false, "no facts read yet"};
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - facts.taken);
  if (age > max_age) {
    return {false, fmt::format("facts are {} ms old (at most {} ms are trusted): mysqld or "
                               "Consul is slow to answer",
                               age.count(), max_age.count())};
  }
  return {true, "fresh"};
}

Verdict CheckHealth(const LocalFacts& facts) {
  if (!facts.mysqld_up) return {false, "mysqld does not answer: " + facts.mysqld_error};
  return {true, "mysqld answers"};
}

Verdict CheckPrimary(const LocalFacts& facts) {
  if (!facts.consul_up) return {false, "cannot read PRIMARY_KEY: " + facts.consul_error};
  if (!facts.lock_mine) {
    return {false, facts.lock_held ? "not the primary (" + facts.lock_holder + " holds the lock)"
                                   : "not the primary (the lock is free)"};
  }
  Verdict health = CheckHealth(facts);
  if (!health.ok) return health;
  if (facts.read_only.value_or(true)) return {false, "holds the lock but is still read-only"};
  return {true, "primary, writable"};
}

Verdict CheckReplica(const LocalFacts& facts, int64_t max_lag_seconds) {
  Verdict health = CheckHealth(facts);
  if (!health.ok) return health;
  if (!facts.consul_up) return {false, "cannot read PRIMARY_KEY: " + facts.consul_error};
  if (facts.lock_mine) return {false, "this node is the primary"};
  if (!facts.lock_held) return {false, "no primary holds the lock"};
  const mysql::ReplicaStatus& r = facts.replica;
  if (!r.configured) return {false, "replication is not configured"};
  if (facts.holder_host.empty()) {
    return {false, "the lock holder " + facts.lock_holder + " is not registered in Consul"};
  }
  if (r.source_host != facts.holder_host || r.source_port != facts.holder_port) {
    return {false,
            fmt::format("replicates from {}:{}, not from the lock holder {} ({}:{})", r.source_host,
                        r.source_port, facts.lock_holder, facts.holder_host, facts.holder_port)};
  }
  if (!r.Running()) {
    return {false, fmt::format("replication is not running (IO thread {}, SQL thread {})",
                               mysql::ThreadStateName(r.io_running),
                               mysql::ThreadStateName(r.sql_running))};
  }
  if (!facts.read_only.value_or(false)) return {false, "replica is writable"};
  if (!r.seconds_behind) return {false, "replica lag is unknown"};
  if (*r.seconds_behind > max_lag_seconds) {
    return {false, fmt::format("replica lag {}s exceeds {}s", *r.seconds_behind, max_lag_seconds)};
  }
  return {true, fmt::format("replica of {}, {}s behind", facts.lock_holder, *r.seconds_behind)};
}

Verdict CheckReadOnly(const LocalFacts& facts, int64_t max_lag_seconds) {
  Verdict primary = CheckPrimary(facts);
  if (primary.ok) return primary;
  return CheckReplica(facts, max_lag_seconds);
}

}  // namespace manage::serve
