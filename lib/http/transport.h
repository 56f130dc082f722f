// HttpTransport: one HTTP request/response exchange, behind an interface so the
// Consul and object-store clients can be tested with a fake transport.
// CurlTransport owns one CURL easy handle (connection reuse); not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace manage::http {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
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

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Returns any HTTP status as a Response; fails with Unavailable on connection
  // errors and DeadlineExceeded on timeout.
  virtual Result<Response> Send(const Request& request) = 0;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TlsOptions tls = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  Result<Response> Send(const Request& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes everything but unreserved characters; '/' kept when keep_slash.
std::string UrlEncode(std::string_view s, bool keep_slash = false);

}  // namespace manage::http
