// FakeTransport: an HttpTransport that records every request and answers from a
// queue of scripted responses or errors, one per call (a streamed upload is one
// call, answered when it finishes; its body is recorded as the request's body).
// A 2xx body goes to the request's body_sink when it has one. A call with
// nothing scripted fails with Internal naming the request. Not thread-safe.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/transport.h"

namespace manage::http {

class FakeTransport final : public HttpTransport {
 public:
  // Queues a response for the next unanswered call.
  void Push(long status, std::string body, std::map<std::string, std::string> headers = {}) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    script_.emplace_back(std::move(response));
  }
  // Queues a failure, as if the connection failed or timed out.
  void PushError(Status status) { script_.emplace_back(std::move(status)); }

  Result<Response> Send(const Request& request) override {
    requests_.push_back(request);
    Result<Response> next = Next(request);
    if (!next.ok() || !request.body_sink || next->status < 200 || next->status >= 300) {
      return next;
    }
    // In pieces, as a network delivers it.
    std::string_view body = next->body;
    for (size_t at = 0; at < body.size(); at += kSinkChunk) {
      MANAGE_RETURN_IF_ERROR(request.body_sink(body.substr(at, kSinkChunk)));
    }
    next->body.clear();
    return next;
  }

  Result<std::unique_ptr<UploadStream>> StartUpload(const Request& request) override {
    if (!upload_error.ok()) return upload_error;
    return std::unique_ptr<UploadStream>(new Upload(this, request));
  }

  // StartUpload fails with this once set; a Write fails with write_error.
  Status upload_error;
  Status write_error;
  // The server answers an upload's first Write early (as one refusing the
  // request does): that Write fails, and Finish returns the next scripted answer.
  bool answer_early = false;
  // Streamed uploads started and not finished, and those aborted.
  int open_uploads = 0;
  int aborted_uploads = 0;

  const std::vector<Request>& requests() const { return requests_; }
  // REQUIRES: at least one request was sent.
  const Request& last() const { return requests_.back(); }
  size_t unanswered() const { return script_.size(); }

 private:
  static constexpr size_t kSinkChunk = 7;

  Result<Response> Next(const Request& request) {
    if (script_.empty()) {
      return Status::Internal("FakeTransport: nothing scripted for " + request.method + " " +
                              request.url);
    }
    Result<Response> next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  class Upload final : public UploadStream {
   public:
    Upload(FakeTransport* t, Request r) : t_(t), request_(std::move(r)) { ++t_->open_uploads; }
    ~Upload() override { Abort(); }
    Status Write(std::string_view data) override {
      if (done_) return Status::FailedPrecondition("upload ended");
      if (!t_->write_error.ok()) return t_->write_error;
      if (t_->answer_early) {
        answered_ = true;
        return Status::Unavailable(request_.method + " " + request_.url +
                                   ": the server answered before the upload ended");
      }
      request_.body.append(data);
      return Status::Ok();
    }
    bool Answered() const override { return answered_; }
    Result<Response> Finish() override {
      if (done_) return Status::FailedPrecondition("upload ended");
      done_ = true;
      --t_->open_uploads;
      t_->requests_.push_back(request_);
      return t_->Next(request_);
    }
    void Abort() override {
      if (done_) return;
      done_ = true;
      --t_->open_uploads;
      ++t_->aborted_uploads;
    }

   private:
    FakeTransport* t_;
    Request request_;
    bool done_ = false;
    bool answered_ = false;
  };

  std::deque<Result<Response>> script_;
  std::vector<Request> requests_;
};

}  // namespace manage::http
