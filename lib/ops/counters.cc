#include "ops/counters.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace manage::ops {
namespace {

// Layout: slot 0 holds kMagic; each hook has kHookSlots slots from
// 1 + hook * kHookSlots; then the node-wide counters. A new layout gets a new
// magic, and a file with another magic is left alone.
constexpr uint64_t kMagic = 0x6d616e6167650001;  // "manage", version 1
constexpr size_t kFileSize = 4096;
constexpr int kHookSlots = 5;
constexpr int kSnapshotsStored = 1 + kHooks * kHookSlots;
constexpr int kStoreErrors = kSnapshotsStored + 1;
static_assert((kStoreErrors + 1) * sizeof(uint64_t) <= kFileSize);

int HookSlot(Hook hook, int field) { return 1 + static_cast<int>(hook) * kHookSlots + field; }

std::atomic_ref<uint64_t> At(uint64_t* slots, int index) {
  return std::atomic_ref<uint64_t>(slots[index]);
}

}  // namespace

const char* HookLabel(Hook hook) {
  switch (hook) {
    case Hook::kPreStart:
      return "pre_start";
    case Hook::kHealth:
      return "health";
    case Hook::kHealthPrimary:
      return "health_primary";
    case Hook::kOnChange:
      return "on_change";
    case Hook::kSnapshot:
      return "snapshot";
    case Hook::kPreStop:
      return "pre_stop";
    case Hook::kCount:
      break;
  }
  return "unknown";
}

Counters::Counters(std::string path) : path_(std::move(path)) {}

Counters::~Counters() {
  if (slots_ != nullptr) ::munmap(slots_, kFileSize);
}

uint64_t* Counters::Slots() {
  std::lock_guard<std::mutex> guard(mu_);
  // Tried again on every call until it works: `serve` may start before
  // pre_start has created the state dir.
  if (slots_ != nullptr) return slots_;
  int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  struct stat st {};
  bool sized = ::fstat(fd, &st) == 0 &&
               (static_cast<size_t>(st.st_size) >= kFileSize || ::ftruncate(fd, kFileSize) == 0);
  void* mapped =
      sized ? ::mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (mapped == MAP_FAILED) return nullptr;
  auto* slots = static_cast<uint64_t*>(mapped);
  uint64_t expected = 0;
  At(slots, 0).compare_exchange_strong(expected, kMagic);
  if (expected != 0 && expected != kMagic) {
    ::munmap(mapped, kFileSize);
    return nullptr;
  }
  slots_ = slots;
  return slots_;
}

void Counters::RecordRun(Hook hook, bool ok, std::chrono::microseconds duration,
                         std::chrono::system_clock::time_point end) {
  uint64_t* s = Slots();
  if (s == nullptr || hook == Hook::kCount) return;
  auto us = static_cast<uint64_t>(duration.count() < 0 ? 0 : duration.count());
  auto end_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(end.time_since_epoch()).count());
  At(s, HookSlot(hook, ok ? 0 : 1)).fetch_add(1);
  At(s, HookSlot(hook, 2)).fetch_add(us);
  At(s, HookSlot(hook, 3)).store(us);
  At(s, HookSlot(hook, 4)).store(end_ms);
}

void Counters::AddSnapshotStored() {
  if (uint64_t* s = Slots()) At(s, kSnapshotsStored).fetch_add(1);
}

void Counters::AddStoreError() {
  if (uint64_t* s = Slots()) At(s, kStoreErrors).fetch_add(1);
}

CounterValues Counters::Read() {
  CounterValues v;
  uint64_t* s = Slots();
  if (s == nullptr) return v;
  for (int h = 0; h < kHooks; ++h) {
    HookCounts& c = v.hooks[h];
    auto hook = static_cast<Hook>(h);
    c.ok = At(s, HookSlot(hook, 0)).load();
    c.failed = At(s, HookSlot(hook, 1)).load();
    c.duration_us = At(s, HookSlot(hook, 2)).load();
    c.last_duration_us = At(s, HookSlot(hook, 3)).load();
    c.last_end_unix_ms = At(s, HookSlot(hook, 4)).load();
  }
  v.snapshots_stored = At(s, kSnapshotsStored).load();
  v.store_errors = At(s, kStoreErrors).load();
  return v;
}

}  // namespace manage::ops
