// Name resolution within a deadline. getaddrinfo has no timeout of its own,
// and a request's deadline must cover the lookup too: a health pass bounds
// every Consul request, and its fence must not wait on a slow DNS server. A
// numeric address is converted without any lookup. Thread-safe.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace manage::http {

// One address to connect to, as getaddrinfo gives it.
struct SocketAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
  int socktype = 0;
  int protocol = 0;
};

// A blocking lookup of `host`:`port` for a TCP stream. Unavailable when the
// name does not resolve.
using Lookup = std::function<Result<std::vector<SocketAddress>>(const std::string& host,
                                                                const std::string& port)>;

// The system resolver (getaddrinfo).
Result<std::vector<SocketAddress>> SystemLookup(const std::string& host, const std::string& port);

// The addresses of `host`:`port`, or DeadlineExceeded when `lookup` has not
// answered by `deadline`. The lookup then goes on in a thread of its own and
// its answer is dropped.
Result<std::vector<SocketAddress>> ResolveBefore(const std::string& host, const std::string& port,
                                                 std::chrono::steady_clock::time_point deadline,
                                                 const Lookup& lookup = SystemLookup);

}  // namespace manage::http
