#include "storage/s3_part_uploads.h"

#include <chrono>
#include <utility>

namespace manage::storage {
namespace {

// How often a waiting owner looks at the store's cancel flag.
constexpr std::chrono::milliseconds kCancelPoll{50};

}  // namespace

PartUploads::PartUploads(PutPart put, const NewTransport& new_transport, int workers,
                         const std::atomic<bool>* cancel)
    : put_(std::move(put)), workers_(workers), outer_cancel_(cancel) {
  for (int i = 0; i < workers_; ++i) {
    Result<std::unique_ptr<http::HttpTransport>> transport = new_transport();
    if (!transport.ok()) {
      failure_ = transport.status();
      return;
    }
    transports_.push_back(std::move(*transport));
  }
  for (auto& transport : transports_) {
    threads_.emplace_back([this, t = transport.get()] { Work(t); });
  }
}

PartUploads::~PartUploads() { Cancel(); }

void PartUploads::Work(http::HttpTransport* transport) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    Result<std::string> etag = put_(*transport, &cancel_, job.part, job.data);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
      if (etag.ok()) {
        etags_[job.part - 1] = std::move(*etag);
      } else if (failure_.ok()) {
        failure_ = etag.status();
      }
      job.data.clear();
      spare_.push_back(std::move(job.data));
    }
    cv_.notify_all();
  }
}

Status PartUploads::WaitUntil(std::unique_lock<std::mutex>& lock,
                              const std::function<bool()>& done) {
  for (;;) {
    if (outer_cancel_ != nullptr && outer_cancel_->load()) {
      cancel_ = true;
      return Status::Aborted("cancelled");
    }
    if (!failure_.ok()) return failure_;
    if (done()) return Status::Ok();
    cv_.wait_for(lock, kCancelPoll);
  }
}

Status PartUploads::Submit(int part, std::string& data) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    MANAGE_RETURN_IF_ERROR(
        WaitUntil(lock, [this] { return static_cast<int>(queue_.size()) + busy_ < workers_; }));
    if (static_cast<int>(etags_.size()) < part) etags_.resize(part);
    queue_.push_back({part, std::move(data)});
    data = std::string();
    if (!spare_.empty()) {
      data = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  cv_.notify_all();
  return Status::Ok();
}

Result<std::vector<std::string>> PartUploads::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  MANAGE_RETURN_IF_ERROR(WaitUntil(lock, [this] { return queue_.empty() && busy_ == 0; }));
  return etags_;
}

void PartUploads::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cancel_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace manage::storage
