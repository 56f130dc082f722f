// The local connection: MariaDB only; fencing within its budget; the watchdog
// that fences a health pass on a primary that cannot prove in time that it
// holds the lock.
#include <catch2/catch.hpp>
#include <charconv>
#include <future>

#include "hooks/fence_watchdog.h"
#include "hooks/local_db.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;

TEST_CASE("fencing gives up within its budget when read_only cannot be set") {
  HookFixture f;
  f.HoldLockHere();
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  f.ScriptReadOnly(false);
  // Each attempt waits as long as the session's lock_wait_timeout says, then
  // fails: a commit that never finishes holds the commit lock.
  int64_t lock_wait = 86400;
  f.db().Fail("SET GLOBAL read_only=ON", Status::Unavailable("(1205) Lock wait timeout exceeded"));
  f.db().on_statement = [&](std::string_view sql) {
    constexpr std::string_view kSet = "SET SESSION lock_wait_timeout=";
    if (sql.starts_with(kSet)) {
      std::string_view n = sql.substr(kSet.size());
      std::from_chars(n.data(), n.data() + n.size(), lock_wait);
    }
    if (sql == "SET GLOBAL read_only=ON") f.clock.Advance(std::chrono::seconds(lock_wait));
  };
  f.consul.FailNext(1, Status::NotFound("Session id not found"), "RenewSession");
  auto start = f.clock.Monotonic();
  Status s = Health(f.deps, {});
  CHECK_FALSE(s.ok());
  CHECK(f.clock.Monotonic() - start <= kFenceBudget);
  CHECK(f.db().Count("SET GLOBAL read_only=ON") > 1);  // retried meanwhile
  CHECK(f.Logged("setting read_only within 500 ms"));
}

TEST_CASE("a primary's pass renews its write lease before it makes mysqld writable") {
  HookFixture f;
  f.HoldLockHere();
  REQUIRE(f.state().SetBootstrapped().ok());
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  f.ScriptReadOnly(false);
  f.ScriptReadOnly(true, 1);
  REQUIRE(Health(f.deps, {}).ok());
  // T 7 + D 1 - I 2 - the pass's 2.4 s to prove the lock.
  CHECK(f.config.WriteLease() == 3600ms);
  const std::string lease = WriteLeaseSql("@@timestamp + 3.600");
  std::vector<std::string> all = f.db().statements();
  auto at = [&all](const std::string& sql) {
    return std::find(all.begin(), all.end(), sql) - all.begin();
  };
  CHECK(at(lease) < at("SET GLOBAL read_only=OFF"));
  CHECK(at("SET GLOBAL read_only=OFF") < static_cast<ptrdiff_t>(all.size()));
  // Every pass renews it, also when mysqld is writable already.
  f.db().ClearStatements();
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.db().Count(lease) == 1);
}

TEST_CASE("the hooks refuse a MySQL server: they need MariaDB") {
  HookFixture f;
  f.db().set_server_version("8.0.36");
  auto db = ConnectLocal(f.deps);
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(db.status().message(), Catch::Contains("MariaDB only"));
}

TEST_CASE("the watchdog fences a pass that did not prove the lock in time") {
  HookFixture f;
  f.ScriptReadOnly(true);
  f.ScriptReadOnly(false, 1);
  std::promise<void> fired;
  FenceWatchdog watchdog(f.deps, 1ms, [&fired] { fired.set_value(); });
  REQUIRE(fired.get_future().wait_for(60s) == std::future_status::ready);
  CHECK(f.db().Ran("SET GLOBAL read_only=ON"));
  CHECK(f.Logged("did not prove it holds the primary lock in time"));
  // From now on nothing in the pass may make mysqld writable.
  CHECK_FALSE(watchdog.Disarm());
  auto db = ConnectLocal(f.deps);
  REQUIRE(db.ok());
  Status s = EnsureReadOnly(f.deps, *db, false, "this node holds the primary lock");
  CHECK(s.code() == Code::kDeadlineExceeded);
  CHECK_FALSE(f.db().Ran("SET GLOBAL read_only=OFF"));
}

TEST_CASE("a watchdog disarmed in time never fires, and gives may_unfence back") {
  HookFixture f;
  bool fired = false;
  {
    FenceWatchdog watchdog(f.deps, 60s, [&fired] { fired = true; });
    CHECK(watchdog.Disarm());
    CHECK(f.deps.may_unfence());
  }
  CHECK_FALSE(fired);
  CHECK_FALSE(f.deps.may_unfence);
  CHECK(f.Writes().empty());
}

}  // namespace
}  // namespace manage::hooks
