#include "http/socket_transport.h"

#include <catch2/catch.hpp>
#include <future>

#include "local_server.h"

namespace manage::http {
namespace {

Request Get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

LocalServer::Reply KeepOpen(const std::string& body) {
  return {"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
          false, true};
}

TEST_CASE("ParseUrl table") {
  struct Row {
    const char* url;
    bool ok;
    bool tls;
    const char* host;
    const char* port;
    const char* target;
  };
  const Row rows[] = {
      {"http://127.0.0.1:8500/v1/kv/a?raw", true, false, "127.0.0.1", "8500", "/v1/kv/a?raw"},
      {"http://consul", true, false, "consul", "80", "/"},
      {"https://consul.example/v1/status/leader", true, true, "consul.example", "443",
       "/v1/status/leader"},
      {"HTTP://Consul:1/?x", true, false, "Consul", "1", "/?x"},
      {"http://host?x=1", true, false, "host", "80", "/?x=1"},
      {"http://[::1]:8500/v1", true, false, "::1", "8500", "/v1"},
      {"consul:8500/v1", false, false, "", "", ""},
      {"ftp://host/", false, false, "", "", ""},
      {"http://:8500/", false, false, "", "", ""},
      {"http://host:85a0/", false, false, "", "", ""},
      {"http://[::1/", false, false, "", "", ""},
  };
  for (const Row& r : rows) {
    INFO(r.url);
    auto u = ParseUrl(r.url);
    REQUIRE(u.ok() == r.ok);
    if (!r.ok) {
      CHECK(u.status().code() == Code::kInvalidArgument);
      continue;
    }
    CHECK(u->tls == r.tls);
    CHECK(u->host == r.host);
    CHECK(u->port == r.port);
    CHECK(u->target == r.target);
  }
}

TEST_CASE("SocketTransport sends URL credentials as Basic authorization") {
  auto u = ParseUrl("http://user:p%40ss@127.0.0.1:1/x");
  REQUIRE(u.ok());
  CHECK(u->userinfo == "user:p%40ss");
  CHECK(u->host == "127.0.0.1");
  LocalServer server({LocalServer::Answer(200, "OK", "")});
  REQUIRE(server.ok());
  std::string url = server.Url("/x");
  url.insert(url.find("://") + 3, "user:pw@");
  SocketTransport transport;
  REQUIRE(transport.Send(Get(url)).ok());
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].find("Authorization: Basic dXNlcjpwdw==\r\n") != std::string::npos);
}

TEST_CASE("SocketTransport keeps one connection for consecutive requests") {
  LocalServer server({KeepOpen("one"), KeepOpen("two"), KeepOpen("three")});
  REQUIRE(server.ok());
  SocketTransport transport;
  for (const char* want : {"one", "two", "three"}) {
    auto r = transport.Send(Get(server.Url("/x")));
    REQUIRE(r.ok());
    CHECK(r->body == want);
  }
  // LocalServer accepts a new connection only after closing one: three answers
  // on kept-open replies mean all three requests shared one connection.
  CHECK(server.requests().size() == 3);
}

TEST_CASE("SocketTransport replaces a kept-alive connection the server closed") {
  // The first answer says nothing about closing, but the server closes anyway
  // (as an agent does on idle timeout); the next request must go out again on
  // a fresh connection and succeed.
  LocalServer::Reply first = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false};
  LocalServer server({first, LocalServer::Answer(200, "OK", "again")});
  REQUIRE(server.ok());
  SocketTransport transport;
  REQUIRE(transport.Send(Get(server.Url("/a"))).ok());
  auto second = transport.Send(Get(server.Url("/b")));
  REQUIRE(second.ok());
  CHECK(second->body == "again");
}

TEST_CASE("SocketTransport decodes chunked bodies and bodies ended by close") {
  struct Row {
    const char* name;
    std::string raw;
    std::string body;
  };
  const Row rows[] = {
      {"chunked",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\n[{\"a\"\r\nc;ext=1\r\n:1},{\"b\":2}]\r\n0\r\nX-Trailer: t\r\n\r\n",
       "[{\"a\":1},{\"b\":2}]"},
      {"until close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nraw body", "raw body"},
      {"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", ""},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    LocalServer server({{r.raw, false, false}});
    REQUIRE(server.ok());
    SocketTransport transport;
    auto resp = transport.Send(Get(server.Url("/")));
    REQUIRE(resp.ok());
    CHECK(resp->body == r.body);
  }
}

TEST_CASE("SocketTransport rejects malformed responses without crashing") {
  const std::string raws[] = {
      "garbage\r\n\r\n",
      "HTTP/1.1 abc OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort",
  };
  for (const std::string& raw : raws) {
    INFO(raw);
    LocalServer server({{raw, false, false}});
    REQUIRE(server.ok());
    SocketTransport transport;
    auto resp = transport.Send(Get(server.Url("/")));
    CHECK_FALSE(resp.ok());
    CHECK(resp.status().code() == Code::kUnavailable);
  }
}

TEST_CASE("SocketTransport reports a host that does not resolve as Unavailable") {
  SocketTransport transport;
  auto resp = transport.Send(Get("http://no-such-host.invalid:8500/"));
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == Code::kUnavailable);
}

TEST_CASE("SocketTransport counts a name lookup against the request's timeout") {
  // A DNS server that does not answer: the lookup returns only when the test ends.
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  Lookup hanging = [released](const std::string&, const std::string&) {
    released.wait();
    return Result<std::vector<SocketAddress>>(Status::Unavailable("cannot resolve"));
  };
  SocketTransport transport({}, hanging);
  Request r = Get("http://consul.example:8500/v1/kv/mysql-primary");
  r.timeout = std::chrono::milliseconds(50);
  auto resp = transport.Send(r);
  release->set_value();
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == Code::kDeadlineExceeded);
}

}  // namespace
}  // namespace manage::http
