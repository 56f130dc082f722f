#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "http/socket_transport.h"
#include "http/transport.h"
#include "local_server.h"

namespace manage::http {
namespace {

using namespace std::chrono_literals;

Request Make(std::string method, std::string url, std::string body = "") {
  Request request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = std::move(body);
  return request;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

template <typename T>
std::unique_ptr<HttpTransport> NewTransport() {
  if constexpr (std::is_same_v<T, CurlTransport>) {
    Result<std::unique_ptr<CurlTransport>> curl = CurlTransport::Create();
    REQUIRE(curl.ok());
    return std::move(curl).value();
  } else {
    return std::make_unique<T>();
  }
}

TEMPLATE_TEST_CASE("Transport sends each method as the server expects", "[http]", CurlTransport,
                   SocketTransport) {
  struct Row {
    std::string method;
    std::string body;
    std::string want_start;  // request line and what must follow it
    std::vector<std::string> want_lines;
    std::vector<std::string> unwanted;
  };
  const Row rows[] = {
      {"GET", "", "GET /v1/kv/k HTTP/1.1\r\n", {}, {"Content-Length", "Content-Type"}},
      {"PUT",
       "mysql-node1",
       "PUT /v1/kv/k HTTP/1.1\r\n",
       {"Content-Length: 11\r\n", "\r\n\r\nmysql-node1"},
       {"Expect", "Content-Type"}},
      {"PUT", "", "PUT /v1/kv/k HTTP/1.1\r\n", {"Content-Length: 0\r\n"}, {"Expect"}},
      {"DELETE", "", "DELETE /v1/kv/k HTTP/1.1\r\n", {}, {"Content-Length"}},
      {"POST", "{}", "POST /v1/kv/k HTTP/1.1\r\n", {"Content-Length: 2\r\n"}, {"Expect"}},
  };
  for (const Row& row : rows) {
    INFO(row.method << " body=" << row.body);
    LocalServer server({LocalServer::Answer(200, "OK", "true")});
    REQUIRE(server.ok());
    auto owned = NewTransport<TestType>();
    HttpTransport& transport = *owned;
    Result<Response> response = transport.Send(Make(row.method, server.Url("/v1/kv/k"), row.body));
    REQUIRE(response.ok());
    CHECK(response->status == 200);
    CHECK(response->body == "true");
    REQUIRE(server.requests().size() == 1);
    const std::string sent = server.requests()[0];
    CHECK(sent.rfind(row.want_start, 0) == 0);
    for (const std::string& line : row.want_lines) CHECK(Contains(sent, line));
    for (const std::string& header : row.unwanted) CHECK_FALSE(Contains(sent, header));
  }
}

TEMPLATE_TEST_CASE("Transport sends headers and collects response headers lower-cased", "[http]",
                   CurlTransport, SocketTransport) {
  LocalServer server({LocalServer::Answer(
      404, "Not Found", "Session id 'x' not found",
      "X-Consul-Index: 24\r\nContent-Type: text/plain\r\nVary: a\r\nVary: b\r\n")});
  REQUIRE(server.ok());
  auto owned = NewTransport<TestType>();
  HttpTransport& transport = *owned;
  Request request = Make("PUT", server.Url("/v1/session/renew/x"));
  request.headers = {{"X-Consul-Token", "secret"}, {"X-Empty", ""}};
  Result<Response> response = transport.Send(request);
  REQUIRE(response.ok());
  CHECK(response->status == 404);  // an HTTP error is still a response
  CHECK(response->body == "Session id 'x' not found");
  CHECK(response->headers.at("x-consul-index") == "24");
  CHECK(response->headers.at("content-type") == "text/plain");
  CHECK(response->headers.at("vary") == "a, b");
  const std::string sent = server.requests().at(0);
  CHECK(Contains(sent, "\r\nX-Consul-Token: secret\r\n"));
  CHECK(Contains(sent, "\r\nX-Empty:"));
}

TEMPLATE_TEST_CASE("Transport reuses its handle across requests", "[http]", CurlTransport,
                   SocketTransport) {
  LocalServer server({LocalServer::Answer(200, "OK", "first"),
                      LocalServer::Answer(500, "Internal Server Error", "second"),
                      LocalServer::Answer(200, "OK", "third")});
  REQUIRE(server.ok());
  auto owned = NewTransport<TestType>();
  HttpTransport& transport = *owned;
  Result<Response> first = transport.Send(Make("PUT", server.Url("/a"), "body"));
  Result<Response> second = transport.Send(Make("GET", server.Url("/b")));
  Result<Response> third = transport.Send(Make("DELETE", server.Url("/c")));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(third.ok());
  CHECK(first->body == "first");
  CHECK(second->status == 500);
  CHECK(second->body == "second");
  CHECK(third->body == "third");
  const std::vector<std::string> sent = server.requests();
  REQUIRE(sent.size() == 3);
  CHECK(sent[1].rfind("GET /b HTTP/1.1\r\n", 0) == 0);  // no body or method left over
  CHECK_FALSE(Contains(sent[1], "Content-Length"));
  CHECK(sent[2].rfind("DELETE /c HTTP/1.1\r\n", 0) == 0);
}

TEMPLATE_TEST_CASE("Transport maps a refused connection to Unavailable", "[http]", CurlTransport,
                   SocketTransport) {
  RefusingPort refusing;
  REQUIRE(refusing.port() > 0);
  auto owned = NewTransport<TestType>();
  HttpTransport& transport = *owned;
  const std::string url =
      "http://user:hunter2@127.0.0.1:" + std::to_string(refusing.port()) + "/v1/kv/k?token=abc";
  Result<Response> response = transport.Send(Make("GET", url));
  REQUIRE_FALSE(response.ok());
  CHECK(response.status().code() == Code::kUnavailable);
  const std::string message = response.status().message();
  CHECK(Contains(message, "GET http://127.0.0.1:"));
  CHECK_FALSE(Contains(message, "hunter2"));
  CHECK_FALSE(Contains(message, "abc"));
}

TEMPLATE_TEST_CASE("Transport maps a silent server to DeadlineExceeded", "[http]", CurlTransport,
                   SocketTransport) {
  LocalServer server({LocalServer::Reply{"", true}});
  REQUIRE(server.ok());
  auto owned = NewTransport<TestType>();
  HttpTransport& transport = *owned;
  Request request = Make("GET", server.Url("/v1/health/service/mysql"));
  request.timeout = 200ms;
  Result<Response> response = transport.Send(request);
  REQUIRE_FALSE(response.ok());
  CHECK(response.status().code() == Code::kDeadlineExceeded);
}

TEMPLATE_TEST_CASE("Transport maps a server that closes without answering to Unavailable", "[http]",
                   CurlTransport, SocketTransport) {
  LocalServer server({LocalServer::Reply{"", false}});
  REQUIRE(server.ok());
  auto owned = NewTransport<TestType>();
  HttpTransport& transport = *owned;
  Result<Response> response = transport.Send(Make("GET", server.Url("/")));
  REQUIRE_FALSE(response.ok());
  CHECK(response.status().code() == Code::kUnavailable);
}

TEMPLATE_TEST_CASE("Transport rejects bad requests before sending", "[http]", CurlTransport,
                   SocketTransport) {
  struct Row {
    std::string name;
    Request request;
  };
  Request injected = Make("GET", "http://127.0.0.1:1/");
  injected.headers = {{"X-Consul-Token", "a\r\nX-Evil: 1"}};
  Request bad_name = Make("GET", "http://127.0.0.1:1/");
  bad_name.headers = {{"Bad Name", "v"}};
  const Row rows[] = {
      {"header value with CRLF", injected},
      {"header name with a space", bad_name},
      {"unsupported scheme", Make("GET", "ftp://127.0.0.1/file")},
      {"malformed URL", Make("GET", "http://[::1/")},
  };
  auto owned = NewTransport<TestType>();
  HttpTransport& transport = *owned;
  for (const Row& row : rows) {
    INFO(row.name);
    Result<Response> response = transport.Send(row.request);
    REQUIRE_FALSE(response.ok());
    CHECK(response.status().code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace manage::http
