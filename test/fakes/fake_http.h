// FakeTransport: an HttpTransport that records every request and answers from a
// queue of scripted responses or errors, one per call. A call with nothing
// scripted fails with Internal naming the request. Not thread-safe.
#pragma once

#include <deque>
#include <map>
#include <string>
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
    if (script_.empty()) {
      return Status::Internal("FakeTransport: nothing scripted for " + request.method + " " +
                              request.url);
    }
    Result<Response> next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  const std::vector<Request>& requests() const { return requests_; }
  // REQUIRES: at least one request was sent.
  const Request& last() const { return requests_.back(); }
  size_t unanswered() const { return script_.size(); }

 private:
  std::deque<Result<Response>> script_;
  std::vector<Request> requests_;
};

}  // namespace manage::http
