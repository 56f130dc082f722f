// ObjectStore: where snapshots live (a local directory, S3, Manta). Objects are
// written as a stream of unknown length through an ObjectWriter and become
// visible only on Commit, so a failed or interrupted upload never shows up in
// List, Stat or Read; reads are streamed too. Memory stays bounded whatever
// the object's size. Network stores retry transient failures themselves
// (storage/retry.h) and stop soon after their cancel flag is raised. Stores
// and writers are not thread-safe; the cancel flag may be raised from any
// thread.
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
  std::string name;  // as given to Create: without the store's prefix
  uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
  // The store's own tag of the content (S3 ETag, Manta's content MD5), as it
  // reports it; empty when the store has none. Our checksums are in records.
  std::string etag;
};

// One object being written. Destroying a writer that was not committed aborts it.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  // Appends `data`. Fails when the store cannot take it (disk full, network
  // after retries, cancelled: Aborted); the writer is then unusable and
  // should be aborted.
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
  // Streams the object to `sink` chunk by chunk, each byte exactly once (a
  // network store resumes an interrupted read where it stopped). NotFound
  // when it does not exist; a sink error stops the read and is returned.
  virtual Status Read(const std::string& name, const sys::OutputSink& sink) = 0;
  // The committed object's metadata; NotFound when it does not exist.
  virtual Result<ObjectInfo> Stat(const std::string& name) = 0;
  // Committed objects whose names start with `prefix` ("" for all), sorted by
  // name; every page of a paginated listing.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // NotFound when the object does not exist.
  virtual Status Remove(const std::string& name) = 0;
  // Where the objects live, for messages: "local:/dir", "s3://bucket/prefix/",
  // "manta:/user/stor/dir". Never holds a credential.
  virtual std::string Location() const = 0;
};

// OK when `name` can name an object in every backend: 1..255 bytes, no '/',
// no "..", no control characters, not starting with '.', not ending in ".partial".
Status ValidateObjectName(std::string_view name);

}  // namespace manage::storage
