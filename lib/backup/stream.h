// Byte pipelines for snapshots: stages that take a stream chunk by chunk and
// pass what they make of it to the next stage, so a backup of any size flows
// from mariabackup to the store (and back to mbstream) through a few fixed
// buffers. Snapshot: mariabackup -> zstd -> AES-256-GCM -> hash -> store.
// Restore: store -> hash -> decrypt -> unzstd -> mbstream. A stage borrows
// its next stage, which must outlive it. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/sha256.h"
#include "sys/process.h"

namespace manage::backup {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(std::string_view data) = 0;
  // The stream ended: flush what is held, check that the stream was whole
  // (a decoder fails on a truncated input) and close the next stage.
  // REQUIRES: called once, after the last Write.
  virtual Status Close() = 0;
};

// The end of a pipeline: hands chunks to a function; Close does nothing.
class CallbackSink final : public ByteSink {
 public:
  explicit CallbackSink(sys::OutputSink sink) : sink_(std::move(sink)) {}
  Status Write(std::string_view data) override { return sink_(data); }
  Status Close() override { return Status::Ok(); }

 private:
  sys::OutputSink sink_;
};

// Counts and hashes (SHA-256) what passes through, unchanged.
class HashingSink final : public ByteSink {
 public:
  explicit HashingSink(ByteSink* next) : next_(next) {}
  Status Write(std::string_view data) override;
  Status Close() override;
  uint64_t bytes() const { return bytes_; }
  // The hex digest. REQUIRES: Close returned OK.
  const std::string& sha256() const { return digest_; }

 private:
  ByteSink* next_;
  storage::Sha256 hash_;
  uint64_t bytes_ = 0;
  std::string digest_;
};

// Counts what passes through, unchanged.
class CountingSink final : public ByteSink {
 public:
  explicit CountingSink(ByteSink* next) : next_(next) {}
  Status Write(std::string_view data) override {
    bytes_ += data.size();
    return next_->Write(data);
  }
  Status Close() override { return next_->Close(); }
  uint64_t bytes() const { return bytes_; }

 private:
  ByteSink* next_;
  uint64_t bytes_ = 0;
};

// Hands the stream to `next` on a thread of its own, through a queue of at
// most `capacity` bytes: the producer (mariabackup's pipe, the store's reads)
// and the consumer (hashing and uploading, mbstream's writes) then run at the
// same time instead of taking turns. Write blocks while the queue is full and
// returns the consumer's error once there is one; Close waits until `next`
// has taken everything and been closed, and returns the first error. Write and
// Close are called from one thread; `next` is only used by the worker.
class AsyncSink final : public ByteSink {
 public:
  AsyncSink(ByteSink* next, size_t capacity);
  ~AsyncSink() override;  // stops the worker; what is queued is dropped
  AsyncSink(const AsyncSink&) = delete;
  AsyncSink& operator=(const AsyncSink&) = delete;
  Status Write(std::string_view data) override;
  Status Close() override;
  // The consumer's first error so far, OK when none.
  Status Failure() const;

 private:
  struct State;
  void Run();
  std::unique_ptr<State> state_;
};

// zstd compression, one frame (with its content checksum) for the whole
// stream. Level 1..19 (zstd clamps others); `threads` > 0 compresses in that
// many worker threads beside the caller's. Internal when zstd cannot start.
Result<std::unique_ptr<ByteSink>> NewZstdCompressor(int level, int threads, ByteSink* next);
// The inverse; Internal on corrupt input, or on Close when the last frame is
// incomplete.
std::unique_ptr<ByteSink> NewZstdDecompressor(ByteSink* next);

}  // namespace manage::backup
