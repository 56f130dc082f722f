// Counters: what the hooks on this node did (runs, failures, durations,
// snapshots stored, object store errors), kept where `manage serve` reads
// them for /metrics. Hooks are short-lived processes, so the counters live in
// a small file of fixed layout in the state dir, mapped into memory: a hook
// adds to it with atomic operations (open, mmap, a few atomic adds, munmap,
// close: no fsync, no lock, no parsing), so recording costs a health check
// microseconds. Concurrent hooks never lose an update. The file survives
// restarts (the counters only grow, as Prometheus expects); a missing or
// unusable state dir only means nothing is recorded.
// Counters is safe to use from several threads and processes at once.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace manage::ops {

// The hooks ContainerPilot runs, whose runs are counted.
enum class Hook { kPreStart, kHealth, kHealthPrimary, kOnChange, kSnapshot, kPreStop, kCount };
inline constexpr int kHooks = static_cast<int>(Hook::kCount);
// "health", "health_primary", ... as the metrics label them.
const char* HookLabel(Hook hook);

// One hook's record.
struct HookCounts {
  uint64_t ok = 0;           // runs that exited 0
  uint64_t failed = 0;       // runs that did not
  uint64_t duration_us = 0;  // the sum of every run's wall time
  uint64_t last_duration_us = 0;
  uint64_t last_end_unix_ms = 0;  // when the last run ended; 0 never
};

struct CounterValues {
  std::array<HookCounts, kHooks> hooks{};
  uint64_t snapshots_stored = 0;  // snapshots this node stored and recorded
  uint64_t store_errors = 0;      // object store requests that failed (retried or not)
};

class Counters {
 public:
  // The file is opened (and created, 0644) on first use, not here.
  explicit Counters(std::string path);
  ~Counters();
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  void RecordRun(Hook hook, bool ok, std::chrono::microseconds duration,
                 std::chrono::system_clock::time_point end);
  void AddSnapshotStored();
  void AddStoreError();
  // Everything recorded so far; zeros when the file cannot be read.
  CounterValues Read();

 private:
  // The mapped slots, mapping the file on first use; nullptr while it cannot.
  uint64_t* Slots();

  std::string path_;
  std::mutex mu_;  // guards the mapping below, not the counters
  uint64_t* slots_ = nullptr;
};

}  // namespace manage::ops
