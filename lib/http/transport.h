// HttpTransport: one HTTP request/response exchange, behind an interface so the
// Consul and object-store clients can be tested with a fake transport.
// CurlTransport owns one CURL easy handle (connection reuse) and also streams
// request and response bodies for object stores; SocketTransport (Consul) does
// only plain exchanges. Neither is thread-safe: one per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace manage::http {

// AWS Signature Version 4, computed by libcurl (CURLOPT_AWS_SIGV4) over the
// method, URL and every header of the request. The URL's query must already be
// in canonical form (sorted, encoded: see storage/s3_request.h): libcurl 7.88
// signs it as written. libcurl 7.88 does not add x-amz-content-sha256; the
// caller sends it, and x-amz-security-token for temporary credentials.
struct AwsSigV4 {
  std::string provider;    // "aws:amz:<region>:s3"; empty: the request is not signed
  std::string access_key;  // never logged
  std::string secret_key;  // never logged
};

// Receives a response body chunk by chunk; a non-OK status stops the transfer
// and is what Send returns.
using BodySink = std::function<Status(std::string_view chunk)>;

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The whole exchange; 0: no limit (large transfers use stall_timeout).
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  // The following are for object stores, CurlTransport only.
  AwsSigV4 aws;
  // When set, a 2xx response body goes here instead of Response::body (error
  // bodies are still collected, for their messages).
  BodySink body_sink;
  // Fails the transfer with Aborted soon after *cancel becomes true; the flag
  // may be set from another thread.
  const std::atomic<bool>* cancel = nullptr;
  // Fails with DeadlineExceeded when no byte moves in either direction for
  // this long; 0: only `timeout` applies.
  std::chrono::milliseconds stall_timeout{0};
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct TlsOptions {
  std::string ca_file;    // empty: system default
  std::string cert_file;  // client certificate, optional
  std::string key_file;
  bool verify = true;
};

// A request whose body is pushed piece by piece and whose length is not known
// in advance (HTTP/1.1 chunked transfer encoding). Destroying an upload that
// was not finished aborts it: the connection is closed mid-body, so the server
// never sees a complete request.
class UploadStream {
 public:
  virtual ~UploadStream() = default;
  // Returns once the transport has taken all of `data`. Fails (and the upload
  // is then unusable) when the server answered early, the connection broke,
  // the upload was cancelled or stalled.
  virtual Status Write(std::string_view data) = 0;
  // Ends the body and waits for the answer. REQUIRES: called once. After a
  // Write failed because the server answered early, returns that answer.
  virtual Result<Response> Finish() = 0;
  // True once the server has answered (before the body ended, when Write
  // failed): Finish then gives its status and error body.
  virtual bool Answered() const { return false; }
  virtual void Abort() = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Returns any HTTP status as a Response; fails with Unavailable on connection
  // errors, DeadlineExceeded on timeout or stall, Aborted when cancelled, and
  // with the sink's status when the sink refused a chunk.
  virtual Result<Response> Send(const Request& request) = 0;
  // Starts `request` (its body must be empty) with a streamed body. The
  // response is collected in memory. FailedPrecondition when the transport
  // cannot stream.
  virtual Result<std::unique_ptr<UploadStream>> StartUpload(const Request& request);
};

class CurlTransport final : public HttpTransport {
 public:
  // Unavailable when libcurl cannot be loaded (http/curl_api.h).
  static Result<std::unique_ptr<CurlTransport>> Create(TlsOptions tls = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  Result<Response> Send(const Request& request) override;
  Result<std::unique_ptr<UploadStream>> StartUpload(const Request& request) override;

 private:
  struct Impl;
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes everything but unreserved characters; '/' kept when keep_slash.
std::string UrlEncode(std::string_view s, bool keep_slash = false);

}  // namespace manage::http
