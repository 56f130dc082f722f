#include "http/resolve.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace manage::http {
namespace {

// The one place where a getaddrinfo failure becomes a Status.
Result<std::vector<SocketAddress>> GetAddrInfo(const std::string& host, const std::string& port,
                                               int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    return Status::Unavailable(fmt::format("cannot resolve {}: {}", host, gai_strerror(rc)));
  }
  std::vector<SocketAddress> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SocketAddress a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    a.family = ai->ai_family;
    a.socktype = ai->ai_socktype;
    a.protocol = ai->ai_protocol;
    out.push_back(a);
  }
  ::freeaddrinfo(list);
  if (out.empty()) return Status::Unavailable("no address for " + host);
  return out;
}

bool IsNumeric(const std::string& host) {
  in6_addr ip{};
  return inet_pton(AF_INET, host.c_str(), &ip) == 1 || inet_pton(AF_INET6, host.c_str(), &ip) == 1;
}

// What the lookup thread and the waiting caller share; the thread may outlive
// the caller.
struct Pending {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  Result<std::vector<SocketAddress>> result = Status::Internal("lookup not finished");
};

}  // namespace

Result<std::vector<SocketAddress>> SystemLookup(const std::string& host, const std::string& port) {
  return GetAddrInfo(host, port, 0);
}

Result<std::vector<SocketAddress>> ResolveBefore(const std::string& host, const std::string& port,
                                                 std::chrono::steady_clock::time_point deadline,
                                                 const Lookup& lookup) {
  if (IsNumeric(host)) return GetAddrInfo(host, port, AI_NUMERICHOST | AI_NUMERICSERV);
  auto pending = std::make_shared<Pending>();
  try {
    std::thread([pending, host, port, lookup] {
      auto r = lookup(host, port);
      std::lock_guard<std::mutex> lock(pending->mu);
      pending->result = std::move(r);
      pending->done = true;
      pending->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    return Status::Unavailable(fmt::format("cannot resolve {}: {}", host, e.what()));
  }
  std::unique_lock<std::mutex> lock(pending->mu);
  if (!pending->done_cv.wait_until(lock, deadline, [&] { return pending->done; })) {
    return Status::DeadlineExceeded(
        fmt::format("resolving {}: no answer before the request timeout", host));
  }
  return pending->result;
}

}  // namespace manage::http
