// manage archive: it waits, touching nothing, while this node is not the
// primary; it never exits on its own; archive fill.
#include <catch2/catch.hpp>

#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {
namespace {

// Raises the termination flag after `n` pauses of the archiver.
struct Terminator {
  std::atomic<bool> flag{false};
  int sleeps = 0;
  void Attach(HookFixture& f, int n) {
    f.deps.catch_termination = [this] { return &flag; };
    f.clock.on_sleep = [this, n] {
      if (++sleeps == n) flag = true;
    };
  }
};

TEST_CASE("manage archive waits, touching nothing, while another node is the primary") {
  HookFixture f;
  f.GiveLockTo(kOther);
  Terminator t;
  t.Attach(f, 50);  // 10 s of 200 ms pauses
  f.consul.ClearCalls();
  REQUIRE(Archive(f.deps, {}).ok());
  CHECK(t.sleeps == 50);
  CHECK(f.archive_services.empty());   // the store was never opened
  CHECK(f.db().statements().empty());  // nor mysqld connected to
  size_t reads = 0;
  for (const auto& call : f.consul.calls()) {
    reads += call.method == "List" || call.method == "Get";
  }
  CHECK(reads >= 4);  // PRIMARY_KEY, every 2 s
  CHECK(reads <= 6);
}

TEST_CASE("with BINLOG_ARCHIVE=no it waits for SIGTERM instead of exiting") {
  HookFixture f(Env{{"BINLOG_ARCHIVE", "No"}});
  Terminator t;
  t.Attach(f, 20);
  f.consul.ClearCalls();
  REQUIRE(Archive(f.deps, {}).ok());
  CHECK(t.sleeps == 20);
  CHECK(f.consul.calls().empty());
  CHECK(f.Logged("binlog archiving is off"));
}

TEST_CASE("archive fill says when there is no gap, and takes no other argument") {
  HookFixture f;
  REQUIRE(Archive(f.deps, {"fill"}).ok());
  CHECK(f.printed == "the binlog archive has no gap\n");
  CHECK(Archive(f.deps, {"fil"}).code() == Code::kInvalidArgument);
  CHECK(Archive(f.deps, {"fill", "now"}).code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace manage::hooks
