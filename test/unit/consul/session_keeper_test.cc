#include "consul/session_keeper.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

namespace manage::consul {
namespace {

using namespace std::chrono_literals;

TEST_CASE("NextKeeperStep renews every TTL/3, retries failures, gives up after a TTL") {
  struct Row {
    std::chrono::milliseconds since_success, since_attempt;
    KeeperStep want;
  };
  const Row rows[] = {
      {0ms, 0ms, KeeperStep::kWait},
      {9999ms, 9999ms, KeeperStep::kWait},     // TTL 30 s: renew after 10 s
      {10000ms, 10000ms, KeeperStep::kRenew},  //
      {12000ms, 100ms, KeeperStep::kWait},     // a failed attempt is retried after 500 ms
      {12000ms, 500ms, KeeperStep::kRenew},    //
      {29999ms, 600ms, KeeperStep::kRenew},    // still trying until the TTL is out
      {30000ms, 0ms, KeeperStep::kLost},       // the session may be invalid by now
      {90000ms, 90000ms, KeeperStep::kLost},
  };
  for (const Row& row : rows) {
    INFO(row.since_success.count()
         << " ms since success, " << row.since_attempt.count() << " ms since attempt");
    CHECK(NextKeeperStep(row.since_success, row.since_attempt, 30s) == row.want);
  }
  // A TTL that is not a multiple of 3 s: a third of 1 s is 333 ms, not 0.
  CHECK(NextKeeperStep(300ms, 300ms, 1s) == KeeperStep::kWait);
  CHECK(NextKeeperStep(334ms, 334ms, 1s) == KeeperStep::kRenew);
}

// Answers RenewSession from a script and lets the test wait for calls; every
// other method is unused by the keeper.
class RenewOnly final : public Consul {
 public:
  explicit RenewOnly(Status answer) : answer_(std::move(answer)) {}
  Status RenewSession(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    changed_.notify_all();
    return answer_;
  }
  // True once `n` renewals were asked for, within a generous bound.
  bool WaitForCalls(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, 30s, [&] { return calls_ >= n; });
  }

  Result<std::string> CreateSession(const SessionSpec&) override { return Unused(); }
  Status DestroySession(const std::string&) override { return Unused(); }
  Result<KvPair> Get(const std::string&) override { return Unused(); }
  Result<std::vector<KvPair>> List(const std::string&) override { return Unused(); }
  Status Put(const std::string&, const std::string&) override { return Unused(); }
  Result<bool> CheckAndSet(const std::string&, const std::string&, uint64_t) override {
    return Unused();
  }
  Result<bool> Acquire(const std::string&, const std::string&, const std::string&) override {
    return Unused();
  }
  Result<bool> Release(const std::string&, const std::string&, const std::string&) override {
    return Unused();
  }
  Status Delete(const std::string&) override { return Unused(); }
  Status Txn(const std::vector<TxnOp>&) override { return Unused(); }
  Result<std::vector<ServiceInstance>> Health(const std::string&, bool) override {
    return Unused();
  }
  Status RegisterAgentService(const ServiceRegistration&) override { return Unused(); }
  Status UpdateTtlCheck(const std::string&, const std::string&, const std::string&) override {
    return Unused();
  }

 private:
  static Status Unused() { return Status::Internal("not used by the keeper"); }
  Status answer_;
  std::mutex mu_;
  std::condition_variable changed_;
  int calls_ = 0;
};

Logger Quiet() { return Logger(nullptr, LogLevel::kError, false); }

TEST_CASE("SessionKeeper renews while its owner is busy, and stops on Stop") {
  auto consul = std::make_unique<RenewOnly>(Status::Ok());
  RenewOnly* seen = consul.get();
  std::atomic<bool> cancel{false};
  SessionKeeper keeper(std::move(consul), "sess", 1s, &cancel, Quiet());
  REQUIRE(seen->WaitForCalls(2));  // the owner did nothing meanwhile
  keeper.Stop();
  CHECK(keeper.renewals() >= 2);
  CHECK_FALSE(keeper.Lost());
  CHECK_FALSE(cancel.load());
}

TEST_CASE("SessionKeeper raises the cancel flag when Consul says the session is gone") {
  auto consul = std::make_unique<RenewOnly>(Status::NotFound("Session id 'sess' not found"));
  std::atomic<bool> cancel{false};
  SessionKeeper keeper(std::move(consul), "sess", 1s, &cancel, Quiet());
  for (int i = 0; i < 3000 && !keeper.Lost(); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(keeper.Lost());
  CHECK(cancel.load());
  CHECK(keeper.LostReason().find("not found") != std::string::npos);
  CHECK(keeper.renewals() == 0);
}

}  // namespace
}  // namespace manage::consul
