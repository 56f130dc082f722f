// Pipelines between mariabackup's stream ("raw") and what the store holds
// ("stored"): Encoder applies the configured compression and encryption and
// hashes the result; Decoder reads a record's stored bytes back, checking the
// stored SHA-256 and size against the record. Both own their stages and are
// not thread-safe. Memory: a few fixed buffers (zstd windows, one 256 KiB
// encryption frame) and the 16 MiB queue between producer and consumer,
// whatever the stream's size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backup/backup_record.h"
#include "backup/crypt.h"
#include "backup/stream.h"

namespace manage::backup {

// How far a pipeline's producer may run ahead of its consumer (AsyncSink).
inline constexpr size_t kPipelineQueueBytes = 16 * 1024 * 1024;

struct Encoding {
  int zstd_level = 0;              // 0: no compression
  int zstd_threads = 0;            // worker threads beside the caller's
  const BackupKey* key = nullptr;  // nullptr: no encryption; borrowed
};

class Encoder {
 public:
  // `stored` receives the encoded stream and outlives the Encoder.
  static Result<std::unique_ptr<Encoder>> Create(const Encoding& encoding, ByteSink* stored);
  // Where raw bytes go. Close it once at the end of the stream.
  ByteSink& input() { return *head_; }
  // Fills compression, encryption, key_id, raw_size, size and sha256.
  // REQUIRES: input().Close() returned OK.
  void Describe(BackupRecord* record) const;

 private:
  Encoder() = default;
  std::vector<std::unique_ptr<ByteSink>> stages_;  // owned, in stream order
  ByteSink* head_ = nullptr;
  CountingSink* raw_ = nullptr;
  HashingSink* hash_ = nullptr;
  Encoding encoding_;
};

class Decoder {
 public:
  // FailedPrecondition when the record is encrypted and `key` is null (naming
  // the key id and the variables to set), or `key` is another key.
  static Result<std::unique_ptr<Decoder>> Create(const BackupRecord& record, const BackupKey* key,
                                                 ByteSink* raw);
  // Where stored bytes go. Close it once at the end of the object.
  ByteSink& input() { return *head_; }
  uint64_t stored_bytes() const { return hash_->bytes(); }
  // After input().Close(): Internal "checksum mismatch: expected X got Y" or a
  // size mismatch when the stored bytes are not the record's.
  Status CheckRecord() const;

 private:
  Decoder() = default;
  std::vector<std::unique_ptr<ByteSink>> stages_;
  ByteSink* head_ = nullptr;
  HashingSink* hash_ = nullptr;
  BackupRecord record_;
};

// Adapts an output function (a child's stdin, an ObjectWriter's Write) as the
// end of a pipeline.
std::unique_ptr<ByteSink> SinkTo(sys::OutputSink out);

}  // namespace manage::backup
