// S3Store: an ObjectStore in an S3 bucket (AWS or any S3-compatible store:
// MinIO, Ceph, R2, ...), under the settings' key prefix (SNAPSHOT_PREFIX).
// A written stream becomes one object through a multipart upload: parts are
// buffered one at a time (storage/s3_request.h states the sizes, so memory is
// one part: 8 MiB up to 7.8 GiB) and the upload is completed on Commit, or
// aborted on failure, on Abort and when an uncommitted writer is destroyed:
// nothing is visible before Commit. A stream smaller than one part is a single
// PUT. Every request and part is retried per the context's RetryPolicy; reads
// resume with a Range request (If-Match the ETag) after a transient failure.
// The cancel flag stops transfers with Aborted. Not thread-safe; a writer
// uses its store's transport, so use one writer or read at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http/transport.h"
#include "storage/object_store.h"
#include "storage/open_store.h"
#include "storage/settings.h"

namespace manage::storage {

class S3Store final : public ObjectStore {
 public:
  // `prefix` is SNAPSHOT_PREFIX ("a/b" or ""). REQUIRES: `transport` and
  // context.clock outlive the store.
  S3Store(S3Settings s3, std::string prefix, http::HttpTransport* transport, StoreContext context);
  // As above, owning the transport.
  S3Store(S3Settings s3, std::string prefix, std::unique_ptr<http::HttpTransport> transport,
          StoreContext context);
  ~S3Store() override;

  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& name) override;
  Status Read(const std::string& name, const sys::OutputSink& sink) override;
  Result<ObjectInfo> Stat(const std::string& name) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Remove(const std::string& name) override;
  // "s3://bucket/prefix/"
  std::string Location() const override;

  // No byte moving for this long fails a transfer (then retried); small
  // requests also fail after request_timeout.
  static constexpr std::chrono::milliseconds kStallTimeout{std::chrono::seconds(60)};
  static constexpr std::chrono::milliseconds kRequestTimeout{std::chrono::seconds(60)};

 private:
  friend class S3Writer;
  std::string Key(const std::string& name) const;
  std::string What(const std::string& method, const std::string& key) const;
  // Sends `request` until it succeeds or fails for good (retry policy, cancel
  // flag unless `cancellable` is false) and maps the answer to a Status.
  Result<http::Response> Exchange(http::Request& request, const std::string& what,
                                  bool cancellable = true);
  Result<ObjectInfo> Head(const std::string& name);

  S3Settings s3_;
  std::string prefix_;  // "" or "a/b/"
  std::unique_ptr<http::HttpTransport> owned_;
  http::HttpTransport* transport_;
  StoreContext context_;
};

}  // namespace manage::storage
