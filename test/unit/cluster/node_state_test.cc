#include "cluster/node_state.h"

#include <catch2/catch.hpp>

#include "fakes/fake_fs.h"

namespace manage::cluster {
namespace {

constexpr char kBootId[] = "/proc/sys/kernel/random/boot_id";

TEST_CASE("NodeState: the lease proof and the missing-key sighting count only in their boot") {
  sys::FakeFileSystem fs;
  fs.AddFile(kBootId, "5f0c-first-boot\n");
  fs.AddDir("/state");
  NodeState state(&fs, "/state");
  REQUIRE(state.SetLeaseProof("1000 1200").ok());
  REQUIRE(state.SetLockMissingSince("1300").ok());
  CHECK(state.LeaseProof() == "1000 1200");
  CHECK(state.LockMissingSince() == "1300");

  // After a reboot the times since boot start again: the old ones mean nothing.
  fs.AddFile(kBootId, "9a71-second-boot\n");
  CHECK(state.LeaseProof().empty());
  CHECK(state.LockMissingSince().empty());
  REQUIRE(state.SetLeaseProof("40 50").ok());
  CHECK(state.LeaseProof() == "40 50");

  // A file from before the stamp (no boot id line) proves nothing either.
  fs.AddFile("/state/lease", "1000 1200\n");
  CHECK(state.LeaseProof().empty());
}

}  // namespace
}  // namespace manage::cluster
