// Spool: the archiver's local copy of the events it has received and not yet
// sealed into one segment. Events are appended as they arrive, a tail segment
// is uploaded from a range of it every BINLOG_ARCHIVE_RPO, and the whole of it
// becomes one sealed segment at BINLOG_ARCHIVE_SEAL_MB or _SEAL_INTERVAL. So
// memory stays bounded whatever the transactions' sizes; the disk holds at
// most one seal's worth (or one transaction, when larger). A spool belongs to
// one archiver run: a new run starts a new one. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "sys/process.h"

namespace manage::archive {

class Spool {
 public:
  virtual ~Spool() = default;
  virtual uint64_t size() const = 0;
  virtual Status Append(std::string_view data) = 0;
  // Streams bytes [from, to) to `sink`. REQUIRES: from <= to <= size().
  virtual Status Read(uint64_t from, uint64_t to, const sys::OutputSink& sink) = 0;
  // Keeps bytes [from, size()) as the whole content (offsets shift by `from`).
  virtual Status DropBefore(uint64_t from) = 0;
};

// A spool in file `path`, created empty (an existing one is truncated: what a
// dead run left there was never published and is read again from the server).
Result<std::unique_ptr<Spool>> OpenFileSpool(const std::string& path);

}  // namespace manage::archive
