// LocalReader against the fakes: the lock as health reads it, the holder's
// address, and a mysqld that goes away and comes back.
#include "serve/refresh.h"

#include <catch2/catch.hpp>

#include "unit/hooks/hook_fixture.h"

namespace manage::serve {
namespace {

using hooks::HookFixture;

TEST_CASE("a replica's facts: the holder's address, threads and lag") {
  HookFixture f;
  f.RegisterSelf();
  f.RegisterOther();
  f.GiveLockTo(hooks::kOther);
  f.ScriptReadOnly(true);
  f.ScriptReplica(hooks::ReplicaOf(hooks::kOtherAddress, mysql::ThreadState::kYes, 4));
  LocalReader reader(f.deps);
  LocalFacts facts = reader.Read();
  CHECK(facts.mysqld_up);
  CHECK(facts.consul_up);
  CHECK(facts.lock_held);
  CHECK_FALSE(facts.lock_mine);
  CHECK(facts.lock_holder == hooks::kOther);
  CHECK(facts.holder_host == hooks::kOtherAddress);
  CHECK(facts.holder_port == 3306);
  CHECK(facts.passing == std::optional<bool>(true));
  CHECK(facts.replica.seconds_behind == std::optional<int64_t>(4));
  CHECK(facts.read_only == std::optional<bool>(true));
  CHECK(facts.gtid == "0-1-5");
  CHECK(f.Writes().empty());  // reading changes nothing
}

TEST_CASE("the primary's facts: its own session holds the lock") {
  HookFixture f;
  f.HoldLockHere();
  f.ScriptReadOnly(false);
  LocalReader reader(f.deps);
  LocalFacts facts = reader.Read();
  CHECK(facts.lock_mine);
  CHECK(facts.read_only == std::optional<bool>(false));
  CHECK_FALSE(facts.replica.configured);
  CHECK(f.Writes().empty());
}

TEST_CASE("one connection is kept; after mysqld goes away the next read reconnects") {
  HookFixture f;
  f.ScriptReadOnly(true);
  LocalReader reader(f.deps);
  CHECK(reader.Read().mysqld_up);
  CHECK(reader.Read().mysqld_up);
  CHECK(f.db().connects().size() == 1);
  CHECK(f.db().connects()[0].read_timeout <= std::chrono::seconds(2));
  f.db().DropConnections();
  LocalFacts down = reader.Read();
  CHECK_FALSE(down.mysqld_up);
  CHECK_FALSE(down.mysqld_error.empty());
  CHECK(reader.Read().mysqld_up);
  CHECK(f.db().connects().size() == 2);
}

TEST_CASE("Consul unreachable: mysqld facts stay, the lock is unknown") {
  HookFixture f;
  f.ScriptReadOnly(true);
  f.consul.FailNext(1, Status::Unavailable("connection refused"), "List");
  LocalReader reader(f.deps);
  LocalFacts facts = reader.Read();
  CHECK(facts.mysqld_up);
  CHECK_FALSE(facts.consul_up);
  CHECK_THAT(facts.consul_error, Catch::Contains("connection refused"));
}

}  // namespace
}  // namespace manage::serve
