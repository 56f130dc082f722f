// ObjectStore: where snapshots live (local directory, later S3 and Manta).
// Objects are written as a stream through an ObjectWriter and become visible
// only on Commit, so a failed or interrupted upload never shows up in List or
// Read; this suits multipart uploads. Stores and writers are not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sys/process.h"

namespace manage::storage {

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
};

// One object being written. Destroying a writer that was not committed aborts it.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  // Appends `data`. Unavailable when the store cannot take it now (disk full,
  // network); the writer is then unusable and should be aborted.
  virtual Status Write(std::string_view data) = 0;
  // Makes the object visible under its name, replacing any object of that name.
  // REQUIRES: not committed or aborted before.
  virtual Status Commit() = 0;
  // Discards what was written; nothing becomes visible. Best effort, idempotent.
  virtual void Abort() = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Starts writing object `name`. InvalidArgument for a bad name (see
  // ValidateObjectName).
  virtual Result<std::unique_ptr<ObjectWriter>> Create(const std::string& name) = 0;
  // Streams the object to `sink` chunk by chunk. NotFound when it does not
  // exist; a sink error stops the read and is returned.
  virtual Status Read(const std::string& name, const sys::OutputSink& sink) = 0;
  // Committed objects, sorted by name.
  virtual Result<std::vector<ObjectInfo>> List() = 0;
  // NotFound when the object does not exist.
  virtual Status Remove(const std::string& name) = 0;
};

// OK when `name` can name an object in every backend: 1..255 bytes, no '/',
// no "..", no control characters, not starting with '.', not ending in ".partial".
Status ValidateObjectName(std::string_view name);

}  // namespace manage::storage
