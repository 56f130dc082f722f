// SocketTransport: HTTP/1.1 on one kept-alive TCP connection, with TLS through
// OpenSSL for https, for the small requests manage sends to the Consul agent on
// every health check. It exists for start-up cost: libcurl and its dependency
// tree take longer to load than a whole health check (README, "Cost of a health
// check"), while libssl is loaded anyway by the MariaDB client library.
// CurlTransport remains the transport for object stores. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/resolve.h"
#include "http/transport.h"

namespace manage::http {

struct ParsedUrl {
  bool tls = false;
  std::string host;      // without brackets for IPv6 literals
  std::string port;      // "80"/"443" when the URL has none
  std::string target;    // path and query, at least "/"
  std::string userinfo;  // "user:password" before '@', sent as Basic authorization
};

// Splits "http(s)://[user:password@]host[:port][/path?query]". InvalidArgument
// otherwise.
Result<ParsedUrl> ParseUrl(std::string_view url);

class SocketTransport final : public HttpTransport {
 public:
  // `lookup` resolves host names (tests replace it); the lookup counts
  // against each request's timeout like the rest of the request.
  explicit SocketTransport(TlsOptions tls = {}, Lookup lookup = SystemLookup);
  ~SocketTransport() override;
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;

  // As HttpTransport::Send. A kept-alive connection that the server closed in
  // the meantime is replaced and the request sent once more, only when no byte
  // of an answer had arrived.
  Result<Response> Send(const Request& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace manage::http
