// MantaStore: an ObjectStore in a Manta directory (MANTA_BUCKET, and
// SNAPSHOT_PREFIX below it), over an HttpTransport. Every request is signed
// (storage/manta_auth.h).
//
// - Create: the directory is checked first (HEAD, retried), which also proves
//   the credentials, and created with any missing parents (PUT
//   "application/json; type=directory"); then the object is streamed in ONE
//   PUT with chunked transfer encoding. Manta records an object only when the
//   whole request body arrived: a failed or aborted upload closes the
//   connection mid-body and nothing becomes visible (an older object of that
//   name stays). The streamed PUT cannot be replayed (its data is not kept),
//   so any failure during it fails the writer; the caller starts over.
//   Without Max-Content-Length Manta refuses streamed objects over 5 GiB:
//   MantaStoreOptions::max_object_size raises that.
// - Read: a streamed GET under If-Match on the object's ETag; after a
//   transient failure it resumes with a Range request at the first byte not
//   yet delivered, so the sink gets each byte once, all from one version.
//   Attempts that made progress do not use up the retry policy (a long read
//   may fail more than max_attempts times), bounded by kMaxResumes.
// - Stat is HEAD, List pages through the directory (limit, inclusive marker),
//   Remove is DELETE; each is retried per storage/retry.h (a retried DELETE
//   that finds nothing counts as done: the lost attempt deleted it).
// Memory: one listing page plus the transport's buffers, never an object.
// Not thread-safe; the cancel flag may be raised from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/transport.h"
#include "storage/manta_auth.h"
#include "storage/object_store.h"
#include "storage/retry.h"
#include "sys/clock.h"

namespace manage::storage {

struct MantaStoreOptions {
  std::string url;        // MANTA_URL: scheme://host[:port], no trailing '/'
  std::string directory;  // absolute Manta path, no trailing '/'
  // Sent as Max-Content-Length on uploads, and enforced while writing; 0:
  // none sent (Manta's default limit for streamed objects, 5 GiB).
  uint64_t max_object_size = 0;
  sys::Clock* clock = nullptr;  // REQUIRED: Date headers and backoff
  const std::atomic<bool>* cancel = nullptr;
  RetryObserver on_retry;
  RetryPolicy retry;
  int list_page_size = 1024;  // Manta's maximum
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  // Streamed transfers have no overall timeout; they fail when no byte moves
  // for this long.
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
};

class MantaStore final : public ObjectStore {
 public:
  // Resumed reads give up after this many interruptions that made progress.
  static constexpr int kMaxResumes = 100;

  // `transport` outlives the store.
  MantaStore(http::HttpTransport* transport, MantaSigner signer, MantaStoreOptions options);
  MantaStore(std::unique_ptr<http::HttpTransport> transport, MantaSigner signer,
             MantaStoreOptions options);

  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& name) override;
  Status Read(const std::string& name, const sys::OutputSink& sink) override;
  Result<ObjectInfo> Stat(const std::string& name) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Remove(const std::string& name) override;
  std::string Location() const override { return "manta:" + options_.directory; }

 private:
  // A request for `path` signed now; streamed ones have no overall timeout.
  Result<http::Request> Signed(const std::string& method, const std::string& path,
                               bool streamed) const;
  // Runs `attempt` per the retry policy, honouring the cancel flag.
  Status Retried(const std::function<Status()>& attempt);
  // Sends `request` (a transport failure names the method and URL).
  Result<http::Response> Exchange(const http::Request& request);
  // A HEAD. Its answers carry no body, so a refusal (401, 403, 409) would not
  // say why: then the same path is asked with GET, which Manta allows or
  // refuses alike and whose error body names the reason (a body it allows is
  // not read).
  Result<http::Response> Head(const std::string& path);
  Status EnsureDirectory();
  Status GetRange(const std::string& path, const ObjectInfo& info, uint64_t* offset,
                  const sys::OutputSink& sink, Status* sink_status);
  std::string ObjectPath(const std::string& name) const { return options_.directory + "/" + name; }

  std::unique_ptr<http::HttpTransport> owned_;
  http::HttpTransport* transport_;
  MantaSigner signer_;
  MantaStoreOptions options_;
  bool directory_ready_ = false;
};

}  // namespace manage::storage
