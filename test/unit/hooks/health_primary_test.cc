// health on the primary's side: renewing, fencing, taking the lock and the
// one-time bootstrap; plus `--primary` and argument checking.
#include <catch2/catch.hpp>

#include "mysql/password.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;
using Reply = sys::FakeProcessRunner::Reply;

TEST_CASE(
    "health: the holder renews its session, heartbeats its check and turns read_only OFF "
    "only when it was ON") {
  struct Row {
    bool read_only_before;
    Strings writes;
  };
  const Row rows[] = {
      {true, {"SET GLOBAL read_only=OFF"}},
      {false, {}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.read_only_before);
    HookFixture f;
    std::string session = f.HoldLockHere();
    REQUIRE(f.state().SetBootstrapped().ok());
    f.ScriptReadOnly(row.read_only_before);
    f.consul.ClearCalls();
    f.clock.Advance(15s);  // past one TTL: only the renewal keeps the session alive

    REQUIRE(Health(f.deps, {}).ok());
    CHECK(f.Writes() == row.writes);
    CHECK(f.consul.CallLog() == Strings{"List mysql-primary", "RenewSession " + session,
                                        "UpdateTtlCheck service:mysql-n1"});
    CHECK(f.state().LastRole() == cluster::Role::kPrimary);
    f.clock.Advance(15s);
    CHECK(f.consul.SessionExists(session));
  }
}

TEST_CASE("health: a primary that cannot renew its session is fenced and fails") {
  struct Row {
    const char* what;
    Status renew_error;
    bool session_kept;
  };
  const Row rows[] = {
      {"session gone (404)", Status::NotFound("Session id not found"), false},
      {"Consul unreachable", Status::Unavailable("connection refused"), true},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    HookFixture f;
    std::string session = f.HoldLockHere();
    REQUIRE(f.state().SetBootstrapped().ok());
    REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
    f.ScriptReadOnly(false);
    f.consul.FailNext(1, row.renew_error, "RenewSession");

    Status s = Health(f.deps, {});
    CHECK(s.code() == row.renew_error.code());
    CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
    CHECK((f.state().Session() == session) == row.session_kept);
    CHECK(f.Logged("fenced"));
  }
}

TEST_CASE("health: Consul unreachable fences a node that was primary, and only that one") {
  struct Row {
    cluster::Role last_role;
    Strings writes;
  };
  const Row rows[] = {
      {cluster::Role::kPrimary, {"SET GLOBAL read_only=ON"}},
      {cluster::Role::kReplica, {}},
      {cluster::Role::kUnknown, {}},
  };
  for (const Row& row : rows) {
    CAPTURE(cluster::RoleName(row.last_role));
    HookFixture f;
    if (row.last_role != cluster::Role::kUnknown) REQUIRE(f.state().SetRole(row.last_role).ok());
    f.ScriptReadOnly(false);
    f.consul.FailNext(1, Status::Unavailable("connection refused"), "List");

    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kUnavailable);
    CHECK(f.Writes() == row.writes);
  }
}

TEST_CASE("health: a fresh node takes the free lock and bootstraps exactly once") {
  HookFixture f;
  f.RegisterSelf();
  REQUIRE(f.state().SetOrigin(cluster::Origin::kInit).ok());
  f.ScriptReadOnly(false);
  f.ScriptReadOnly(true, 2);  // until the first pass turns it off
  f.PastNewNodeWait();

  REQUIRE(Health(f.deps, {}).ok());
  auto kv = f.consul.Peek(f.config.keys.primary_key);
  REQUIRE(kv.has_value());
  CHECK(kv->value == kNode);
  CHECK_FALSE(kv->session.empty());
  CHECK(f.state().Session() == kv->session);
  CHECK(f.state().LastRole() == cluster::Role::kPrimary);
  CHECK(f.state().Bootstrapped());
  CHECK(f.Writes() ==
        Strings{
            "CREATE DATABASE IF NOT EXISTS `appdb`",
            "CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY PASSWORD "
            "'*2D3D1197BA18379E7D1C2094AE885F8FD49A17C3'",
            "GRANT ALL PRIVILEGES ON `appdb`.* TO 'app'@'%'",
            "CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY PASSWORD "
            "'*53D95440B632BBC6053A502846C1955EB94A0926'",
            "GRANT REPLICATION SLAVE, SLAVE MONITOR, BINLOG MONITOR, RELOAD, PROCESS, LOCK TABLES, "
            "SELECT ON *.* TO 'repl'@'%'",
            "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password "
            "USING '*A6AC583AA064C9626B27F7CA4E7CE7DF1C4178C4'",
            "SET GLOBAL read_only=OFF",
        });
  // Nothing that takes seconds runs in a health pass that must finish within
  // the check's TTL: no program at all (time zones load in pre_start).
  CHECK(f.runner.calls().empty());
  CHECK(f.spawned == std::vector<Strings>{{"snapshot"}});

  // Later passes keep the role and never bootstrap again.
  f.db().ClearStatements();
  REQUIRE(Health(f.deps, {}).ok());
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.Writes().empty());
  CHECK(f.runner.calls().empty());
  CHECK(f.spawned.size() == 1);
  for (const char* secret : {kAppPassword, kReplPassword, kRootPassword}) {
    CHECK_FALSE(f.Logged(secret));
  }
}

TEST_CASE("health: the first primary keeps a generated root password in a 0600 file") {
  HookFixture f(Env{{"MYSQL_ROOT_PASSWORD", ""}});
  f.RegisterSelf();
  REQUIRE(f.state().SetOrigin(cluster::Origin::kInit).ok());
  f.ScriptReadOnly(true);
  f.PastNewNodeWait();
  REQUIRE(Health(f.deps, {}).ok());
  const sys::FakeFileSystem::Node* file = f.fs.Find(f.StatePath("root-password"));
  REQUIRE(file != nullptr);
  CHECK(file->mode == 0600);
  std::string password = file->data.substr(0, file->data.find('\n'));
  CHECK(password.size() >= 16);
  CHECK(f.db().Count("ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR "
                     "mysql_native_password USING '" +
                     *mysql::NativePasswordHash(password) + "'") == 1);
  CHECK_FALSE(f.Logged(password));
}

TEST_CASE("health: a node restored from a snapshot that becomes primary never bootstraps") {
  HookFixture f;
  f.HoldLockHere();
  REQUIRE(f.state().SetOrigin(cluster::Origin::kSnapshot).ok());
  f.ScriptReadOnly(true);
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.Writes() == Strings{"SET GLOBAL read_only=OFF"});
  CHECK(f.spawned.empty());
}

TEST_CASE("health: a primary whose session expired fences itself before retaking the lock") {
  HookFixture f;
  f.config.session_ttl = 25s;
  f.config.lock_delay = 15s;
  std::string old_session = f.HoldLockHere();
  REQUIRE(f.state().SetBootstrapped().ok());
  REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
  f.ScriptReadOnly(true);
  f.ScriptReadOnly(false, 1);  // it was writable when it froze
  f.clock.Advance(50s);        // two TTLs without renewal: the session is gone

  SECTION("during the lock-delay the lock cannot be taken") {
    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kAborted);
    CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
    CHECK_FALSE(f.LockHeld());
    CHECK(f.state().Session() != old_session);  // the stale ID was never retried
  }
  SECTION("after the lock-delay it is primary again") {
    f.clock.Advance(15s);
    REQUIRE(Health(f.deps, {}).ok());
    CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON", "SET GLOBAL read_only=OFF"});
    CHECK(f.LockHeld());
    CHECK(f.consul.Peek(f.config.keys.primary_key)->session == f.state().Session());
  }
}

TEST_CASE("health: a former primary never takes a free lock that does not name it") {
  struct Row {
    const char* what;
    const char* value;  // the free lock's value
    bool healthy;       // a failover candidate: only when nobody else is named
  };
  const Row rows[] = {
      // Released by a switchover to kOther, which has not taken it yet: this
      // node restarted with stale data in between.
      {"handed over to another node", kOther, false},
      // Released without a name (or the key is gone): a failover decides.
      {"naming nobody", "", true},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    HookFixture f;
    f.RegisterSelf();
    f.RegisterOther();
    auto id = f.GiveLockTo(kNode, "node1");
    REQUIRE(*f.consul.Release(f.config.keys.primary_key, id, row.value));
    REQUIRE(f.state().SetBootstrapped().ok());
    REQUIRE(f.state().SetRole(cluster::Role::kPrimary).ok());
    f.ScriptReadOnly(true);  // booted read-only

    Status s = Health(f.deps, {});
    CHECK(s.ok() == row.healthy);
    CHECK_FALSE(f.LockHeld());
    CHECK(f.Writes().empty());
    CHECK(f.spawned == std::vector<Strings>{{"on_change"}});
  }
}

TEST_CASE("health: reports healthy but stays read-only until its own check can hold a session") {
  {
    HookFixture f;
    f.RegisterSelf(false);  // registered, but critical
    REQUIRE(f.state().SetOrigin(cluster::Origin::kInit).ok());
    f.ScriptReadOnly(true);
    f.PastNewNodeWait();

    REQUIRE(Health(f.deps, {}).ok());
    CHECK(f.Writes().empty());
    CHECK_FALSE(f.LockHeld());
    CHECK(f.state().Session().empty());
    CHECK_FALSE(f.state().Bootstrapped());
    CHECK(f.spawned.empty());
    CHECK(f.consul.SessionCount() == 0);
    CHECK_FALSE(f.Called("RegisterAgentService"));
  }
}

TEST_CASE("health: the lock naming this node under a session it does not hold means wait") {
  for (const char* stored : {"", "11111111-1111-4111-8111-111111111111"}) {
    CAPTURE(stored);
    HookFixture f;
    f.RegisterSelf();
    f.GiveLockTo(kNode, "node1");  // a previous run of this node
    if (*stored) REQUIRE(f.state().SetSession(stored).ok());
    f.ScriptReadOnly(false);
    f.consul.ClearCalls();

    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kFailedPrecondition);
    CHECK(s.message().find("waiting for it to expire") != std::string::npos);
    CHECK(f.Writes() == Strings{"SET GLOBAL read_only=ON"});
    CHECK(f.consul.CallLog() == Strings{"List mysql-primary"});
  }
}

// Passes only on the node whose session holds the lock; on a node that was
// primary, anything else (or no answer) also fences mysqld.
TEST_CASE("health --primary passes only on the holder, and fences a former primary") {
  using Lock = HookFixture::Lock;
  using cluster::Role;
  constexpr char kFence[] = "SET GLOBAL read_only=ON";
  struct Row {
    const char* what;
    Lock lock;
    Role last_role;
    bool consul_down;
    Code code;
    Strings writes;
  };
  const Row rows[] = {
      {"held by this node's session", Lock::kHeldHere, Role::kPrimary, false, Code::kOk, {}},
      {"held by another node",
       Lock::kHeldByOther,
       Role::kReplica,
       false,
       Code::kFailedPrecondition,
       {}},
      {"free", Lock::kFree, Role::kUnknown, false, Code::kFailedPrecondition, {}},
      {"our name, a session we do not have",
       Lock::kOurNameOldSession,
       Role::kReplica,
       false,
       Code::kFailedPrecondition,
       {}},
      {"was primary, another node holds it (resumed after a freeze)",
       Lock::kHeldByOther,
       Role::kPrimary,
       false,
       Code::kFailedPrecondition,
       {kFence}},
      {"was primary, the lock is free",
       Lock::kFree,
       Role::kPrimary,
       false,
       Code::kFailedPrecondition,
       {kFence}},
      {"was primary, Consul unreachable",
       Lock::kHeldHere,
       Role::kPrimary,
       true,
       Code::kUnavailable,
       {kFence}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    HookFixture f;
    f.RegisterOther();
    f.SetLock(row.lock);
    if (row.last_role != Role::kUnknown) REQUIRE(f.state().SetRole(row.last_role).ok());
    f.ScriptReadOnly(false);
    if (row.consul_down) f.consul.FailNext(1, Status::Unavailable("connection refused"), "List");
    CHECK(Health(f.deps, {"--primary"}).code() == row.code);
    CHECK(f.Writes() == row.writes);
    if (row.last_role != Role::kPrimary) CHECK(f.db().connects().empty());
  }
}

TEST_CASE("health rejects unknown arguments before doing anything") {
  HookFixture f;
  Status s = Health(f.deps, {"--primary", "--bogus"});
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() == "unknown argument '--bogus'");
  CHECK(f.db().connects().empty());
  CHECK(f.consul.calls().empty());
}

}  // namespace
}  // namespace manage::hooks

namespace manage::hooks {
namespace {

// The snapshot store is opened by the commands that use it; a store that is
// misconfigured or down (a wrong MANTA_USER, S3 unreachable) never reaches a
// health check, on the primary or a replica.
TEST_CASE("health: a broken snapshot store changes nothing in a health pass") {
  for (bool primary : {true, false}) {
    CAPTURE(primary);
    HookFixture f;
    int opened = 0;
    f.deps.open_store = [&opened]() -> Result<storage::ObjectStore*> {
      ++opened;
      return Status::InvalidArgument("MANTA_USER: not set");
    };
    if (primary) {
      f.HoldLockHere();
      REQUIRE(f.state().SetBootstrapped().ok());
      f.ScriptReadOnly(false);
      REQUIRE(Health(f.deps, {}).ok());
    } else {
      f.GiveLockTo(kOther);
      f.RegisterOther();
      (void)Health(f.deps, {});  // a replica's answer depends on replication, not on the store
    }
    CHECK(opened == 0);
  }
}

}  // namespace
}  // namespace manage::hooks
