#include "http/resolve.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <future>

namespace manage::http {
namespace {

using namespace std::chrono_literals;

SocketAddress Loopback(uint16_t port) {
  SocketAddress a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.addr);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.len = sizeof(sockaddr_in);
  a.family = AF_INET;
  a.socktype = SOCK_STREAM;
  return a;
}

TEST_CASE("ResolveBefore gives up at the deadline when the lookup hangs") {
  // A lookup that answers only when the test ends, as a DNS server that does
  // not answer would never.
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  Lookup hanging = [released](const std::string&, const std::string&) {
    released.wait();
    return Result<std::vector<SocketAddress>>(std::vector<SocketAddress>{Loopback(8500)});
  };
  auto r =
      ResolveBefore("consul.example", "8500", std::chrono::steady_clock::now() + 20ms, hanging);
  release->set_value();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kDeadlineExceeded);
  CHECK_THAT(r.status().message(), Catch::Contains("consul.example"));
}

TEST_CASE("ResolveBefore returns what the lookup answers in time") {
  Lookup quick = [](const std::string& host, const std::string& port) {
    CHECK(host == "consul.example");
    CHECK(port == "8500");
    return Result<std::vector<SocketAddress>>(std::vector<SocketAddress>{Loopback(8500)});
  };
  auto r = ResolveBefore("consul.example", "8500", std::chrono::steady_clock::now() + 60s, quick);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(r->front().family == AF_INET);

  Lookup failing = [](const std::string&, const std::string&) {
    return Result<std::vector<SocketAddress>>(Status::Unavailable("cannot resolve x"));
  };
  auto f = ResolveBefore("x", "1", std::chrono::steady_clock::now() + 60s, failing);
  CHECK(f.status().code() == Code::kUnavailable);
}

TEST_CASE("ResolveBefore converts a numeric address without a lookup") {
  Lookup never = [](const std::string&, const std::string&) {
    FAIL("looked up a numeric address");
    return Result<std::vector<SocketAddress>>(Status::Internal("unreachable"));
  };
  for (const char* host : {"127.0.0.1", "::1"}) {
    CAPTURE(host);
    auto r = ResolveBefore(host, "8500", std::chrono::steady_clock::now() + 60s, never);
    REQUIRE(r.ok());
    CHECK_FALSE(r->empty());
  }
}

}  // namespace
}  // namespace manage::http
