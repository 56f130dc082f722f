// health under Consul's own faults: Consul that lost its state (the services
// registered again as ContainerPilot registers them, the last primary taking
// the lock back, the others waiting before failing over) and Consul that does
// not answer (the primary's lease).
#include "hooks/consul_faults.h"

#include <catch2/catch.hpp>

#include "cluster/primary_lock.h"
#include "cluster/registration.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;
constexpr char kFence[] = "SET GLOBAL read_only=ON";

// What ContainerPilot registers for kNode under containerpilot.json5 with the
// fixture's environment (containerpilot.md, "Registration and heartbeats").
consul::ServiceRegistration ContainerPilotService() {
  return {kNode,
          "mysql",
          {"failover-priority=0"},
          3306,
          kAddress,
          7s,
          "passing",
          "TTL for mysql set by containerpilot"};
}
consul::ServiceRegistration ContainerPilotPrimaryService() {
  return {"mysql-primary-n1",
          "mysql-primary",
          {},
          3306,
          kAddress,
          7s,
          "passing",
          "TTL for mysql-primary set by containerpilot"};
}

void CheckSame(const std::optional<consul::ServiceRegistration>& got,
               const consul::ServiceRegistration& want) {
  REQUIRE(got.has_value());
  CHECK(got->id == want.id);
  CHECK(got->name == want.name);
  CHECK(got->tags == want.tags);
  CHECK(got->port == want.port);
  CHECK(got->address == want.address);
  CHECK(got->check_ttl == want.check_ttl);
  CHECK(got->check_status == want.check_status);
  CHECK(got->check_notes == want.check_notes);
}

// The primary: holds the lock, bootstrapped, writable, and one full pass
// behind it (which records its lease proof).
struct PrimaryFixture : HookFixture {
  explicit PrimaryFixture(const Env& overrides = {}) : HookFixture(overrides) {
    session = HoldLockHere();
    REQUIRE(state().SetBootstrapped().ok());
    REQUIRE(state().SetRole(cluster::Role::kPrimary).ok());
    ScriptReadOnly(false);
    REQUIRE(Health(deps, {}).ok());
    db().ClearStatements();
    consul.ClearCalls();
  }
  // A pass of `pass` that started at `pass_start` got "No cluster leader".
  bool KeptByLeaseAt(std::chrono::milliseconds pass_start, LeasePass pass) {
    auto local = ConnectLocal(deps);
    REQUIRE(local.ok());
    auto s = state();
    return KeptByLease(deps, s, *local, Status::Unavailable("No cluster leader"), pass_start, pass);
  }
  std::string session;
};

// A replica of kOther, which holds the lock; one passing pass behind it.
struct ReplicaFixture : HookFixture {
  ReplicaFixture() {
    RegisterSelf();
    RegisterOther();
    GiveLockTo(kOther);
    REQUIRE(state().SetRole(cluster::Role::kReplica).ok());
    ScriptReadOnly(true);
    ScriptReplica(ReplicaOf(kOtherAddress));
    REQUIRE(Health(deps, {}).ok());
  }
};

// ---- Consul lost its state

TEST_CASE("health: a node whose check Consul does not know registers it as ContainerPilot does") {
  HookFixture f;  // a fresh node: ContainerPilot registers only after a passing check
  REQUIRE(f.state().SetOrigin(cluster::Origin::kInit).ok());
  f.ScriptReadOnly(false);
  f.ScriptReadOnly(true, 2);
  f.PastNewNodeWait();

  REQUIRE(Health(f.deps, {}).ok());
  CheckSame(f.consul.Registration(kNode), ContainerPilotService());
  CheckSame(f.consul.Registration("mysql-primary-n1"), ContainerPilotPrimaryService());
  CHECK(f.LockHeld());
  CHECK(f.state().Bootstrapped());
}

// A new node (no role, no replication) that sees PRIMARY_KEY missing.
struct NewNodeFixture : HookFixture {
  NewNodeFixture() {
    RegisterSelf();
    REQUIRE(state().SetOrigin(cluster::Origin::kInit).ok());
    ScriptReadOnly(true);
  }
};

TEST_CASE("health: a new node waits a full pass of every node before bootstrapping a missing key") {
  NewNodeFixture f;
  const auto wait = cluster::EveryNodePassedWithin(cluster::LeaseTimingOf(f.config));
  CHECK(wait > 0s);

  Status first = Health(f.deps, {});
  CHECK(first.code() == Code::kFailedPrecondition);
  CHECK_THAT(first.message(), Catch::Contains("for a running cluster whose lock Consul lost"));
  CHECK_FALSE(f.LockHeld());
  CHECK_FALSE(f.Called("Health"));  // nothing asked of Consul yet
  f.clock.Advance(wait - 1ms);
  CHECK(Health(f.deps, {}).code() == Code::kFailedPrecondition);
  CHECK_FALSE(f.LockHeld());

  // Nobody else passes: the cluster's first bootstrap.
  f.clock.Advance(1ms);
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.LockHeld());
  CHECK(f.state().Bootstrapped());
}

TEST_CASE(
    "health: a new node never takes a missing key while another node of the service passes "
    "(Consul lost a running cluster's state)") {
  NewNodeFixture f;
  f.RegisterOther();  // a replica that registered its service again
  f.PastNewNodeWait();

  for (int pass = 0; pass < 3; ++pass) {
    Status s = Health(f.deps, {});
    CHECK(s.code() == Code::kFailedPrecondition);
    CHECK_THAT(s.message(), Catch::Contains("other nodes of this service pass their checks"));
    f.clock.Advance(5s);
  }
  CHECK_FALSE(f.LockHeld());
  CHECK(f.consul.SessionCount() == 0);
  CHECK_FALSE(f.state().Bootstrapped());
  CHECK(f.Writes().empty());
  CHECK(f.spawned.empty());
}

TEST_CASE("health: a new node that cannot learn who passes does not bootstrap") {
  NewNodeFixture f;
  f.PastNewNodeWait();
  f.consul.FailNext(1, Status::Unavailable("No cluster leader"), "Health");

  CHECK(Health(f.deps, {}).code() == Code::kUnavailable);
  CHECK_FALSE(f.LockHeld());
  CHECK_FALSE(f.state().Bootstrapped());
}

TEST_CASE("health: the registration follows containerpilot.json5's settings") {
  HookFixture f(Env{{"HEALTH_TTL", "11"},
                    {"PRIMARY_HEALTH_TTL", "13"},
                    {"MYSQL_PORT", "3307"},
                    {"FAILOVER_PRIORITY", "7"},
                    {"NO_FAILOVER", "yes"},
                    {"CONTAINERPILOT_MYSQL_IP", "10.1.0.11"},
                    {"CONTAINERPILOT_MYSQL_PRIMARY_IP", "10.2.0.11"}});
  consul::ServiceRegistration node = cluster::NodeService(f.config);
  CHECK(node.tags == Strings{"failover-priority=7", "no-failover"});
  CHECK(node.port == 3307);
  CHECK(node.address == "10.1.0.11");
  CHECK(node.check_ttl == 11s);
  consul::ServiceRegistration primary = cluster::PrimaryService(f.config);
  CHECK(primary.tags.empty());
  CHECK(primary.address == "10.2.0.11");
  CHECK(primary.check_ttl == 13s);
}

TEST_CASE("health: after Consul lost its state the primary takes the lock back at once") {
  PrimaryFixture f;
  f.consul.LoseState();

  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.LockHeld());
  CHECK(f.consul.Peek(f.config.keys.primary_key)->value == kNode);
  CHECK(f.state().Session() == f.consul.Peek(f.config.keys.primary_key)->session);
  CheckSame(f.consul.Registration(kNode), ContainerPilotService());
  CheckSame(f.consul.Registration("mysql-primary-n1"), ContainerPilotPrimaryService());
  // Fenced while it held nothing, writable again once it holds the lock; its
  // check's heartbeats land again, and its lease starts at once.
  CHECK(f.Writes() == Strings{kFence});
  CHECK(f.consul.CallLog().back() == "UpdateTtlCheck service:mysql-n1");
  f.clock.Advance(2s);
  f.consul.FailNext(1, Status::Unavailable("No cluster leader"), "List");
  CHECK(Health(f.deps, {}).message().find("lease covers") != std::string::npos);
  CHECK(f.Writes() == Strings{kFence});
  f.consul.ClearCalls();
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.consul.CallLog().back() == "UpdateTtlCheck service:mysql-n1");
}

TEST_CASE(
    "health: after Consul lost its state a former primary whose lease ran out waits like the "
    "replicas, then fails over") {
  // Its proof (renewal and heartbeat at 0) shows nobody else could take the
  // lock before min(10, 7) + 1 = 8 s; later, another node may have held it
  // meanwhile (a failover while this node was away, or Consul gone longer).
  PrimaryFixture f;
  f.consul.LoseState();
  f.clock.Advance(8s);
  const auto grace = cluster::LockLossGrace(cluster::LeaseTimingOf(f.config));

  REQUIRE(Health(f.deps, {}).ok());  // a failover candidate, with its check passing
  CHECK_FALSE(f.LockHeld());
  CHECK(f.Writes() == Strings{kFence});
  CHECK(f.spawned.empty());
  CHECK(f.Logged("this node's lease ran out"));
  CheckSame(f.consul.Registration(kNode), ContainerPilotService());
  // Past the grace: through the failover, like every other node.
  f.clock.Advance(grace);
  REQUIRE(Health(f.deps, {}).ok());
  CHECK_FALSE(f.LockHeld());
  CHECK(f.spawned == std::vector<Strings>{{"on_change"}});
}

TEST_CASE("health: a primary that released the lock keeps no lease to take a lost key back") {
  PrimaryFixture f;
  auto state = f.state();
  cluster::PrimaryLock lock(&f.config, &f.consul, &state);
  REQUIRE(lock.Release(kOther).ok());  // a switchover's hand-over
  CHECK(state.LeaseProof().empty());
  CHECK_FALSE(OwnLeaseRunning(f.deps, state));
}

TEST_CASE("health: a primary that ends its session on a clean stop keeps no lease either") {
  PrimaryFixture f;  // alone: nobody to hand over to
  REQUIRE_FALSE(f.state().LeaseProof().empty());
  CHECK_FALSE(PreStop(f.deps, {}).ok());
  CHECK(f.Logged("no hand-over; fencing and ending the primary session"));
  CHECK(f.state().Session().empty());
  CHECK(f.state().LeaseProof().empty());
}

TEST_CASE(
    "health: after Consul lost its state a replica waits for the last primary, then fails "
    "over") {
  ReplicaFixture f;
  f.consul.LoseState();
  const auto grace = cluster::LockLossGrace(cluster::LeaseTimingOf(f.config));
  CHECK(grace == 11s);  // SESSION_TTL 10 s + SESSION_LOCK_DELAY 1 s

  // Within the grace: healthy, registered again, no failover, never the lock.
  for (auto elapsed : {0s, 5s, 10s}) {
    CAPTURE(elapsed.count());
    f.clock.Advance(elapsed == 0s ? 0s : 5s);
    REQUIRE(Health(f.deps, {}).ok());
    CHECK(f.spawned.empty());
    CHECK_FALSE(f.LockHeld());
    CheckSame(f.consul.Registration(kNode), ContainerPilotService());
    CHECK_FALSE(f.consul.Registration("mysql-primary-n1").has_value());
  }
  CHECK(f.Writes().empty());
  // Past it: the failover starts.
  f.clock.Advance(1s);
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.spawned == std::vector<Strings>{{"on_change"}});
}

TEST_CASE(
    "health: a replica that never saw the lock missing registers again once it has "
    "a new holder") {
  ReplicaFixture f;
  REQUIRE(Health(f.deps, {}).ok());
  CHECK_FALSE(f.Called("RegisterAgentService"));  // nothing lost, nothing registered

  // Consul restarts empty; the primary takes the lock again before this
  // node's next pass.
  f.consul.LoseState();
  f.RegisterOther();
  f.GiveLockTo(kOther);
  REQUIRE(Health(f.deps, {}).ok());
  CheckSame(f.consul.Registration(kNode), ContainerPilotService());
  f.consul.ClearCalls();
  REQUIRE(Health(f.deps, {}).ok());
  CHECK_FALSE(f.Called("RegisterAgentService"));
}

TEST_CASE("health: the missing-lock clock starts at the first sighting and stops with the key") {
  HookFixture f;
  auto state = f.state();
  cluster::LockView missing;
  CHECK(LockMissingFor(f.deps, state, missing) == 0ms);
  f.clock.Advance(3s);
  CHECK(LockMissingFor(f.deps, state, missing) == 3000ms);
  cluster::LockView present;
  present.present = true;
  CHECK_FALSE(LockMissingFor(f.deps, state, present).has_value());
  f.clock.Advance(3s);
  CHECK(LockMissingFor(f.deps, state, missing) == 0ms);
}

TEST_CASE("failover: no coordinator promotes anyone while the lock is missing, even forced") {
  for (bool forced : {false, true}) {
    CAPTURE(forced);
    HookFixture f;
    f.RegisterSelf();
    f.RegisterOther();
    REQUIRE(f.state().SetRole(cluster::Role::kReplica).ok());
    f.ScriptReadOnly(true);
    f.ScriptReplica(ReplicaOf(kOtherAddress));
    const auto start = f.clock.SinceBoot();
    const auto grace = cluster::LockLossGrace(cluster::LeaseTimingOf(f.config));
    bool held_early = false;
    f.clock.on_sleep = [&] {
      held_early = held_early || (f.LockHeld() && f.clock.SinceBoot() - start < grace);
    };

    (void)Failover(f.deps, forced ? Args{"--force"} : Args{});
    CHECK(f.Logged("the primary lock is missing (Consul lost its state)"));
    CHECK_FALSE(held_early);
    CHECK(f.clock.SinceBoot() - start >= grace);  // it waited the grace out before going on
  }
}

// ---- Consul does not answer: the lease

struct Silence {
  const char* what;
  const char* method;  // the request that fails
  Status error;
};
const Silence kSilences[] = {
    {"reading the lock", "List", Status::Unavailable("HTTP 500: No cluster leader")},
    {"renewing the session", "RenewSession", Status::Unavailable("HTTP 500: No cluster leader")},
    {"reading the lock, held past the timeout", "List",
     Status::DeadlineExceeded("no answer before the request timeout")},
};

TEST_CASE(
    "health: while its agent takes heartbeats, a primary stays writable for its session TTL") {
  // Default timing: SESSION_TTL 10, HEALTH_TTL 7, lock-delay 1, interval 2, a
  // pass that does not fence runs P = 2.5 s, one that does fences within
  // H = 3 s. Each lease pass's heartbeat reaches the agent, so only the
  // renewal bounds the lease: nobody can take the lock before 10 + 1 = 11 s;
  // a pass may keep the node writable if it starts by 11 - 2.5 - 3 = 5.5 s.
  for (const Silence& silence : kSilences) {
    CAPTURE(silence.what);
    PrimaryFixture f;
    for (int pass = 1; pass <= 3; ++pass) {
      CAPTURE(pass);
      f.clock.Advance(2s);
      f.consul.FailNext(1, silence.error, silence.method);
      f.consul.ClearCalls();
      f.db().ClearStatements();
      Status s = Health(f.deps, {});
      // Reported as a failure either way: ContainerPilot must not send a
      // heartbeat of its own that might never come back.
      CHECK(s.code() == silence.error.code());
      if (pass <= 2) {
        CHECK(s.message().find("the primary's lease covers this pass") != std::string::npos);
        CHECK(f.Writes().empty());
        CHECK(f.consul.CallLog().back() == "UpdateTtlCheck service:mysql-n1");
        // Kept through MakeWritable, as a proving pass: mysqld's write lease
        // goes on (the takeover is more than 3.6 + 0.5 s away: the shipped 3.6 s).
        CHECK(f.db().Count(WriteLeaseSql("@@timestamp + 3.600")) == 1);
      } else {
        CHECK(f.Writes() == Strings{kFence});
      }
    }
  }
}

TEST_CASE("health: a lease pass extends mysqld's write lease no further than the lease proves") {
  // No heartbeat landed after the proof at 0: takeover at 7 + 1 = 8 s. A pass
  // that started at 2.4 s is covered (2.4 + 2.5 + 3 <= 8); deciding at 4.4 s,
  // it may let new clients in for 8 - 4.4 - 0.5 = 3.1 s, not the usual 3.6.
  PrimaryFixture f;
  f.clock.Advance(4400ms);
  CHECK(f.KeptByLeaseAt(f.clock.SinceBoot() - 2000ms, LeasePass::kNode));
  CHECK(f.db().Count(WriteLeaseSql("@@timestamp + 3.100")) == 1);
  CHECK(f.Writes().empty());
}

TEST_CASE("health: a lease pass whose watchdog fired is not kept writable") {
  PrimaryFixture f;
  f.clock.Advance(2s);
  f.deps.may_unfence = [] { return false; };  // what FenceWatchdog answers once it fired
  CHECK_FALSE(f.KeptByLeaseAt(f.clock.SinceBoot(), LeasePass::kNode));
  CHECK_FALSE(f.Called("UpdateTtlCheck"));
  // health --primary makes nothing writable, so it asks nothing of it.
  CHECK(f.KeptByLeaseAt(f.clock.SinceBoot(), LeasePass::kPrimary));
}

TEST_CASE("health: a primary that cannot reach its agent either fences on its second silent pass") {
  // No heartbeat lands: HEALTH_TTL bounds the lease, 7 + 1 - 2.5 - 3 = 2.5 s.
  PrimaryFixture f;
  f.consul.FailNext(100, Status::Unavailable("timed out"), "UpdateTtlCheck");
  f.clock.Advance(2s);
  f.consul.FailNext(1, Status::Unavailable("timed out"), "List");
  CHECK(Health(f.deps, {}).message().find("lease covers") != std::string::npos);
  CHECK(f.Writes().empty());
  f.clock.Advance(2s);
  f.consul.FailNext(1, Status::Unavailable("timed out"), "List");
  CHECK(Health(f.deps, {}).code() == Code::kUnavailable);
  CHECK(f.Writes() == Strings{kFence});
}

TEST_CASE("health: what the lease does not cover is fenced at once") {
  struct Row {
    const char* what;
    Env env;
    Status error;
    bool read_only;
  };
  const Row rows[] = {
      {"a Consul answer that proves nothing", {}, Status::NotFound("Session id not found"), false},
      {"CONSUL_AGENT: no lease", {{"CONSUL_AGENT", "1"}}, Status::Unavailable("timed out"), false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    PrimaryFixture f(row.env);
    f.clock.Advance(2s);
    f.consul.FailNext(1, row.error, "RenewSession");
    CHECK_FALSE(Health(f.deps, {}).ok());
    CHECK(f.Writes() == Strings{kFence});
  }
}

TEST_CASE("health: the lease keeps a writable primary writable, never makes it writable") {
  PrimaryFixture f;
  f.ScriptReadOnly(true);
  f.clock.Advance(2s);
  f.consul.FailNext(1, Status::Unavailable("No cluster leader"), "List");
  CHECK(Health(f.deps, {}).code() == Code::kUnavailable);
  CHECK(f.Writes().empty());
}

TEST_CASE("health --primary keeps the primary writable under its lease, and fences after") {
  PrimaryFixture f;
  f.clock.Advance(2s);
  f.consul.FailNext(1, Status::Unavailable("No cluster leader"), "List");
  f.consul.ClearCalls();
  CHECK(Health(f.deps, {"--primary"}).message().find("lease covers") != std::string::npos);
  CHECK(f.Writes().empty());
  // It heartbeats its own check, which stays passing (no heartbeat of
  // ContainerPilot's may follow a failing pass).
  CHECK(f.consul.CallLog().back() == "UpdateTtlCheck service:mysql-primary-n1");
  f.clock.Advance(6s);
  f.consul.FailNext(1, Status::Unavailable("No cluster leader"), "List");
  CHECK(Health(f.deps, {"--primary"}).code() == Code::kUnavailable);
  CHECK(f.Writes() == Strings{kFence});
}

TEST_CASE("health: a pass heartbeats its check only while it fits in the pass") {
  struct Row {
    std::chrono::milliseconds elapsed;  // since the pass started
    bool heartbeat;
  };
  // It must end within the 2.4 s a pass has to prove the lock: a request of up
  // to 1 s fits while 1.4 s have passed.
  for (const Row& row : {Row{0ms, true}, Row{1400ms, true}, Row{1401ms, false}}) {
    CAPTURE(row.elapsed.count());
    PrimaryFixture f;
    auto state = f.state();
    const std::string before = state.LeaseProof();
    f.clock.Advance(2s);
    const auto now = f.clock.SinceBoot();
    f.consul.ClearCalls();
    RecordLeaseProof(f.deps, state, now - row.elapsed, now);
    CHECK(f.Called("UpdateTtlCheck") == row.heartbeat);
    CHECK((state.LeaseProof() != before) == row.heartbeat);
    // A lease pass likewise: it keeps the node writable, heartbeat or not.
    f.consul.ClearCalls();
    CHECK(f.KeptByLeaseAt(now - row.elapsed, LeasePass::kNode));
    CHECK(f.Called("UpdateTtlCheck") == row.heartbeat);
  }
}

TEST_CASE("health: a primary whose agent lost its check registers its services again") {
  PrimaryFixture f;
  f.consul.FailNext(1,
                    Status::NotFound("CheckID \"service:mysql-n1\" does not have associated TTL"),
                    "UpdateTtlCheck");
  REQUIRE(Health(f.deps, {}).ok());
  CHECK(f.Called("RegisterAgentService"));
  CheckSame(f.consul.Registration("mysql-primary-n1"), ContainerPilotPrimaryService());
}

}  // namespace
}  // namespace manage::hooks
