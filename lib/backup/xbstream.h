// XbstreamChecker: checks that a stream is well-formed xbstream (what
// `mariabackup --stream=xbstream` writes and `mbstream -x` reads) without
// unpacking it: every chunk's magic, type, path and length, and every
// payload's CRC-32, as mbstream itself checks them. `manage backup verify`
// runs a snapshot through it. Constant memory. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "backup/stream.h"

namespace manage::backup {

class XbstreamChecker final : public ByteSink {
 public:
  // Internal naming the byte offset and what is wrong.
  Status Write(std::string_view data) override;
  // Internal when the stream ends inside a chunk or holds no file at all.
  Status Close() override;

  uint64_t files() const { return files_; }            // files closed by an EOF chunk
  uint64_t payload_bytes() const { return payload_; }  // bytes of file contents

 private:
  enum class State { kHeader, kPath, kLengths, kChecksum, kPayload };
  Status Bad(const std::string& why) const;
  Status Consume(std::string_view* data);

  State state_ = State::kHeader;
  std::string field_;       // the fixed-size field being collected
  uint32_t path_left_ = 0;  // path bytes still to read
  bool eof_chunk_ = false;  // the current chunk is an EOF chunk
  uint64_t payload_left_ = 0;
  uint32_t expected_crc_ = 0;
  unsigned long crc_ = 0;
  uint64_t offset_ = 0;  // bytes consumed so far
  uint64_t files_ = 0;
  uint64_t payload_ = 0;
};

}  // namespace manage::backup
