// HttpServer: serves HTTP/1.1 on one address with GNU libmicrohttpd, which
// is loaded with dlopen when a server starts: the library and its TLS
// dependency tree (nine more shared libraries, about 1 ms to load) would
// otherwise be loaded by every `manage health` (README, "Cost of a health
// check"). One internal thread polls every connection (epoll); the handler
// runs on it and must answer from memory, never wait.
//
// Bounds, whatever clients do: at most `connections` open connections and
// `per_client` from one address (more are closed at once), `memory` bytes
// per connection for the request line and headers (a longer header gets
// 431 or 414, and the connection is closed), no request body (the
// connection is closed at its first byte), and a connection silent for
// `idle_timeout` is closed. Thread-safe: Start and the destructor from one
// thread, the handler on the server's own thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/log.h"
#include "core/status.h"
#include "serve/http.h"

namespace manage::serve {

struct ServerLimits {
  unsigned connections = 128;
  unsigned per_client = 32;
  size_t memory = 16 * 1024;
  std::chrono::seconds idle_timeout{5};
};

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  // Listens on `address` (numeric IPv4 or IPv6) and `port` (0: any free
  // port, see port()). InvalidArgument for a bad address; Unavailable when
  // the library cannot be loaded or the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& address, int port,
                                                   const ServerLimits& limits, Handler handler,
                                                   Logger log);
  ~HttpServer();  // stops serving and closes every connection
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace manage::serve
