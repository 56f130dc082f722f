// Counters: what one process records, another reads; concurrent adds are
// never lost; a file of another layout is left alone.
#include "ops/counters.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>
#include <vector>

#include "unit/sys/temp_dir.h"

namespace manage::ops {
namespace {

TEST_CASE("runs recorded by one process are read by another") {
  sys::TempDir tmp;
  std::string path = tmp.path() + "/counters";
  {
    Counters health(path);
    auto end = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
    health.RecordRun(Hook::kHealth, true, std::chrono::microseconds(4000), end);
    health.RecordRun(Hook::kHealth, false, std::chrono::microseconds(6000), end);
    health.AddSnapshotStored();
    health.AddStoreError();
  }
  Counters serve(path);
  CounterValues v = serve.Read();
  const HookCounts& h = v.hooks[static_cast<int>(Hook::kHealth)];
  CHECK(h.ok == 1);
  CHECK(h.failed == 1);
  CHECK(h.duration_us == 10000);
  CHECK(h.last_duration_us == 6000);
  CHECK(h.last_end_unix_ms == 1700000000123);
  CHECK(v.hooks[static_cast<int>(Hook::kSnapshot)].ok == 0);
  CHECK(v.snapshots_stored == 1);
  CHECK(v.store_errors == 1);
}

TEST_CASE("concurrent writers lose no update") {
  sys::TempDir tmp;
  std::string path = tmp.path() + "/counters";
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&path] {
      Counters c(path);  // each as its own process would: its own mapping
      for (int i = 0; i < 1000; ++i) {
        c.RecordRun(Hook::kOnChange, true, std::chrono::microseconds(1),
                    std::chrono::system_clock::now());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CounterValues v = Counters(path).Read();
  CHECK(v.hooks[static_cast<int>(Hook::kOnChange)].ok == 4000);
  CHECK(v.hooks[static_cast<int>(Hook::kOnChange)].duration_us == 4000);
}

TEST_CASE("a state dir created later is used from then on") {
  sys::TempDir tmp;
  std::string dir = tmp.path() + "/state";
  Counters serve(dir + "/counters");
  CHECK(serve.Read().snapshots_stored == 0);  // no dir yet
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  Counters(dir + "/counters").AddSnapshotStored();
  CHECK(serve.Read().snapshots_stored == 1);
}

TEST_CASE("an unusable path or a foreign file records nothing and reads zeros") {
  sys::TempDir tmp;
  Counters missing(tmp.path() + "/no/such/dir/counters");
  missing.AddStoreError();
  CHECK(missing.Read().store_errors == 0);
  std::string foreign = tmp.path() + "/foreign";
  std::ofstream(foreign) << std::string(4096, 'x');
  Counters c(foreign);
  c.AddStoreError();
  CHECK(c.Read().store_errors == 0);
  std::ifstream in(foreign);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == std::string(4096, 'x'));
}

}  // namespace
}  // namespace manage::ops
