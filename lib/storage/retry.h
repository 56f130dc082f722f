// Retries of object-store requests: which failures are worth repeating, how
// long to wait before the next attempt (exponential backoff with full
// jitter), and a loop that applies both. Bounded in attempts and in time, so
// a store that stays down fails the operation with its last error. The
// decisions are pure; Retry is not thread-safe (one call per thread).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include "core/status.h"
#include "sys/clock.h"

namespace manage::storage {

struct RetryPolicy {
  int max_attempts = 6;  // including the first
  std::chrono::milliseconds first_delay{250};
  std::chrono::milliseconds max_delay{8000};
  // No attempt starts later than this after the first one began.
  std::chrono::milliseconds budget{std::chrono::seconds(90)};
};

// Connection errors, resets and timeouts (Unavailable, DeadlineExceeded): the
// stores map HTTP 5xx, 429 and 408 answers to Unavailable. Everything else
// (403, 404, a bad request, a cancelled transfer) is final.
bool IsTransient(const Status& status);

// The wait before attempt `next_attempt` (2 for the first retry), given the
// time since the first attempt began and `jitter` in [0, 1): a random point
// in [0, min(max_delay, first_delay * 2^(next_attempt - 2))]. nullopt when
// the attempts or the budget (counting the wait) are used up.
std::optional<std::chrono::milliseconds> RetryDelay(const RetryPolicy& policy, int next_attempt,
                                                    std::chrono::milliseconds elapsed,
                                                    double jitter);

// Called before each wait: the failure, the attempt that failed, the wait.
using RetryObserver =
    std::function<void(const Status& failure, int attempt, std::chrono::milliseconds wait)>;

// Runs `attempt` until it succeeds, fails with a final error, the policy gives
// up (the last failure is returned, annotated with the attempt count) or
// *cancel becomes true (Aborted).
Status Retry(const RetryPolicy& policy, sys::Clock& clock, const std::function<Status()>& attempt,
             const RetryObserver& observer = nullptr, const std::atomic<bool>* cancel = nullptr);

}  // namespace manage::storage
