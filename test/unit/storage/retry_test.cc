#include "storage/retry.h"

#include <catch2/catch.hpp>
#include <vector>

#include "fakes/fake_clock.h"

namespace manage::storage {
namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

TEST_CASE("Only connection failures and timeouts are retried") {
  CHECK(IsTransient(Status::Unavailable("HTTP 503 SlowDown")));
  CHECK(IsTransient(Status::DeadlineExceeded("no data moved for 30000 ms")));
  CHECK_FALSE(IsTransient(Status::FailedPrecondition("HTTP 403 SignatureDoesNotMatch")));
  CHECK_FALSE(IsTransient(Status::NotFound("HTTP 404 NoSuchBucket")));
  CHECK_FALSE(IsTransient(Status::Aborted("cancelled")));
  CHECK_FALSE(IsTransient(Status::Ok()));
}

TEST_CASE("RetryDelay backs off exponentially with full jitter, within attempts and budget") {
  RetryPolicy p;
  p.max_attempts = 5;
  p.first_delay = 250ms;
  p.max_delay = 1000ms;
  p.budget = 10s;
  struct Row {
    int next_attempt;
    ms elapsed;
    double jitter;
    std::optional<ms> want;
  };
  const Row rows[] = {
      {1, 0ms, 0.5, std::nullopt},     // the first attempt has no delay before it
      {2, 0ms, 0.999, ms(249)},        // ceiling 250 ms
      {2, 0ms, 0.0, ms(0)},            // full jitter reaches zero
      {3, 0ms, 0.5, ms(250)},          // ceiling 500 ms
      {4, 0ms, 0.5, ms(500)},          // ceiling 1000 ms
      {5, 0ms, 0.5, ms(500)},          // capped at max_delay
      {6, 0ms, 0.5, std::nullopt},     // out of attempts
      {3, 9800ms, 0.5, std::nullopt},  // the wait would end past the budget
      {3, 9700ms, 0.5, ms(250)},       // ... this one ends just inside it
      {2, 0ms, 7.0, ms(250)},          // jitter clamped into [0, 1]
  };
  for (const Row& row : rows) {
    INFO("attempt " << row.next_attempt << " elapsed " << row.elapsed.count());
    CHECK(RetryDelay(p, row.next_attempt, row.elapsed, row.jitter) == row.want);
  }
}

TEST_CASE("Retry repeats transient failures and stops at the first final answer") {
  sys::FakeClock clock;
  RetryPolicy p;
  p.max_attempts = 4;
  std::vector<Status> answers = {Status::Unavailable("reset"), Status::DeadlineExceeded("slow"),
                                 Status::Ok()};
  size_t calls = 0;
  std::vector<int> observed;
  Status st = Retry(
      p, clock, [&] { return answers.at(calls++); },
      [&](const Status&, int attempt, ms) { observed.push_back(attempt); });
  CHECK(st.ok());
  CHECK(calls == 3);
  CHECK(observed == std::vector<int>{1, 2});
  CHECK(clock.sleeps().size() == 2);

  calls = 0;
  answers = {Status::Unavailable("reset"), Status::FailedPrecondition("403 AccessDenied")};
  st = Retry(p, clock, [&] { return answers.at(calls++); });
  CHECK(st.code() == Code::kFailedPrecondition);
  CHECK(calls == 2);
}

TEST_CASE("Retry gives up after max_attempts with the last failure") {
  sys::FakeClock clock;
  RetryPolicy p;
  p.max_attempts = 3;
  int calls = 0;
  Status st = Retry(p, clock, [&] {
    ++calls;
    return Status::Unavailable("HTTP 500 attempt " + std::to_string(calls));
  });
  CHECK(calls == 3);
  CHECK(st.code() == Code::kUnavailable);
  CHECK(st.message() == "gave up after 3 attempts: HTTP 500 attempt 3");
}

TEST_CASE("Retry gives up when the budget is spent, however many attempts remain") {
  sys::FakeClock clock;
  RetryPolicy p;
  p.max_attempts = 100;
  p.budget = 5s;
  int calls = 0;
  Status st = Retry(p, clock, [&] {
    ++calls;
    clock.Advance(2s);  // each attempt takes two seconds to time out
    return Status::DeadlineExceeded("timeout");
  });
  CHECK(st.code() == Code::kDeadlineExceeded);
  CHECK(calls <= 3);
}

TEST_CASE("Retry stops when cancelled") {
  sys::FakeClock clock;
  std::atomic<bool> cancel{false};
  int calls = 0;
  Status st = Retry(
      RetryPolicy{}, clock,
      [&] {
        ++calls;
        cancel = true;
        return Status::Unavailable("reset");
      },
      nullptr, &cancel);
  CHECK(st.code() == Code::kAborted);
  CHECK(calls == 1);
}

}  // namespace
}  // namespace manage::storage
