#include "storage/retry.h"

#include <algorithm>
#include <random>
#include <string>

namespace manage::storage {

bool IsTransient(const Status& status) {
  return status.code() == Code::kUnavailable || status.code() == Code::kDeadlineExceeded;
}

std::optional<std::chrono::milliseconds> RetryDelay(const RetryPolicy& policy, int next_attempt,
                                                    std::chrono::milliseconds elapsed,
                                                    double jitter) {
  if (next_attempt < 2 || next_attempt > policy.max_attempts) return std::nullopt;
  // first_delay * 2^(n-2), computed without overflow.
  std::chrono::milliseconds ceiling = policy.first_delay;
  for (int i = 2; i < next_attempt && ceiling < policy.max_delay; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, policy.max_delay);
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto wait = std::chrono::milliseconds(static_cast<int64_t>(ceiling.count() * jitter));
  if (elapsed + wait > policy.budget) return std::nullopt;
  return wait;
}

Status Retry(const RetryPolicy& policy, sys::Clock& clock, const std::function<Status()>& attempt,
             const RetryObserver& observer, const std::atomic<bool>* cancel) {
  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto start = clock.Monotonic();
  for (int n = 1;; ++n) {
    if (cancel != nullptr && cancel->load()) return Status::Aborted("cancelled");
    Status st = attempt();
    if (st.ok() || !IsTransient(st)) return st;
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock.Monotonic() - start);
    std::optional<std::chrono::milliseconds> wait = RetryDelay(policy, n + 1, elapsed, unit(rng));
    if (!wait) {
      return n == 1 ? st : st.Annotate("gave up after " + std::to_string(n) + " attempts");
    }
    if (observer) observer(st, n, *wait);
    clock.SleepFor(*wait);
  }
}

}  // namespace manage::storage
