// PartUploads: the parts of one multipart upload sent on background threads
// while the writer fills the next part, at most `workers` parts at once, each
// worker with its own HttpTransport (transports are not thread-safe).
//
// Threads and locks: the owner (one S3Writer, on its caller's thread) calls
// Submit, Finish and Cancel; each worker thread uploads one part at a time.
// mu_ guards the queue, the busy count, the first failure, the ETags and the
// spare buffers; nobody holds it during a request. Workers stop on their own
// flag: the owner raises it in Cancel, and relays the store's cancel flag to
// it whenever it waits in Submit or Finish (its next Write checks the store's
// flag too). Memory: the part being filled plus at most `workers` parts held
// here. If the process dies, its parts die with it: the upload is never
// completed, so nothing becomes visible.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "http/transport.h"

namespace manage::storage {

class PartUploads {
 public:
  // Uploads `data` as part `part` over `transport` (retrying as it sees fit),
  // stopping soon after *cancel is raised; returns the part's ETag. `data`
  // may be moved from only if it is moved back.
  using PutPart = std::function<Result<std::string>(http::HttpTransport& transport,
                                                    const std::atomic<bool>* cancel, int part,
                                                    std::string& data)>;
  using NewTransport = std::function<Result<std::unique_ptr<http::HttpTransport>>()>;

  // `cancel` (may be null) is the store's flag. REQUIRES: workers >= 1.
  PartUploads(PutPart put, const NewTransport& new_transport, int workers,
              const std::atomic<bool>* cancel);
  ~PartUploads();
  PartUploads(const PartUploads&) = delete;
  PartUploads& operator=(const PartUploads&) = delete;

  // Hands part `part` (numbered from 1, in order) to the workers, waiting
  // while `workers` parts are already held; `data` is replaced by an empty
  // buffer for the next part (a recycled one when there is one). Returns the
  // first failure of an earlier part instead, or Aborted when cancelled.
  Status Submit(int part, std::string& data);
  // Waits for every submitted part: their ETags in part order, or the first
  // failure.
  Result<std::vector<std::string>> Finish();
  // In-flight parts end soon (Aborted) and the workers are joined. Idempotent.
  void Cancel();

 private:
  struct Job {
    int part;
    std::string data;
  };
  void Work(http::HttpTransport* transport);
  // Waits on cv_ until `done` holds, a part failed or the store cancelled.
  Status WaitUntil(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done);

  const PutPart put_;
  const int workers_;
  const std::atomic<bool>* const outer_cancel_;
  std::atomic<bool> cancel_{false};
  std::vector<std::unique_ptr<http::HttpTransport>> transports_;
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  int busy_ = 0;
  Status failure_;
  std::vector<std::string> etags_;
  std::vector<std::string> spare_;
  bool stopping_ = false;
};

}  // namespace manage::storage
