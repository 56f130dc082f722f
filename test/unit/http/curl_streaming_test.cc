// CurlTransport's object-store features: AWS SigV4 signing by libcurl, bodies
// streamed to a sink, cancellation, stall detection and streamed (chunked)
// uploads, against LocalServer.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/socket_transport.h"
#include "http/transport.h"
#include "local_server.h"

namespace manage::http {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::unique_ptr<CurlTransport> NewCurl() {
  Result<std::unique_ptr<CurlTransport>> curl = CurlTransport::Create();
  REQUIRE(curl.ok());
  return std::move(curl).value();
}

// The Authorization header of the one request `server` received.
std::string Authorization(const LocalServer& server) {
  const std::string sent = server.requests().at(0);
  const size_t at = sent.find("\r\nAuthorization: ");
  if (at == std::string::npos) return "";
  const size_t from = at + 17;
  return sent.substr(from, sent.find("\r\n", from) - from);
}

TEST_CASE("libcurl signs requests as AWS's published SigV4 examples do", "[http][sigv4]") {
  // From AWS's Signature Version 4 test suite (credentials AKIDEXAMPLE, region
  // us-east-1, service "service", 2015-08-30T12:36:00Z). The query is given in
  // canonical order, as storage/s3_request.h builds it.
  struct Row {
    std::string name, method, target, signed_headers, signature;
  };
  const Row rows[] = {
      {"get-vanilla", "GET", "/", "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case", "GET", "/?Param1=value1&Param2=value2",
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    LocalServer server({LocalServer::Answer(200, "OK", "")});
    REQUIRE(server.ok());
    Request request;
    request.method = row.method;
    request.url = server.Url(row.target);
    request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    request.aws = {"aws:amz:us-east-1:service", "AKIDEXAMPLE",
                   "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    auto curl = NewCurl();
    REQUIRE(curl->Send(request).ok());
    CHECK(Authorization(server) ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
          "SignedHeaders=" +
              row.signed_headers + ", Signature=" + row.signature);
  }
}

TEST_CASE("A 2xx body goes to the sink, an error body to the response", "[http]") {
  LocalServer server({LocalServer::Answer(200, "OK", "all of the object"),
                      LocalServer::Answer(404, "Not Found", "<Error>NoSuchKey</Error>")});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  std::string sunk;
  Request request;
  request.url = server.Url("/bucket/key");
  request.body_sink = [&sunk](std::string_view chunk) {
    sunk.append(chunk);
    return Status::Ok();
  };
  Result<Response> ok = curl->Send(request);
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  CHECK(sunk == "all of the object");
  CHECK(ok->body.empty());
  sunk.clear();
  Result<Response> missing = curl->Send(request);
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);
  CHECK(sunk.empty());
  CHECK(missing->body == "<Error>NoSuchKey</Error>");
}

TEST_CASE("A sink's error stops the transfer and is returned", "[http]") {
  LocalServer server({LocalServer::Answer(200, "OK", std::string(100000, 'x'))});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  Request request;
  request.url = server.Url("/k");
  request.body_sink = [](std::string_view) { return Status::Unavailable("disk full"); };
  Result<Response> r = curl->Send(request);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == "disk full");
}

TEST_CASE("A cancelled transfer fails with Aborted", "[http]") {
  LocalServer server({LocalServer::Reply{"", true}});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  std::atomic<bool> cancel{false};
  Request request;
  request.url = server.Url("/k");
  request.timeout = 0ms;
  request.cancel = &cancel;
  std::thread canceller([&cancel] {
    std::this_thread::sleep_for(50ms);
    cancel = true;
  });
  Result<Response> r = curl->Send(request);
  canceller.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kAborted);
  CHECK(Contains(r.status().message(), "cancelled"));
}

TEST_CASE("A transfer where nothing moves fails with DeadlineExceeded", "[http]") {
  LocalServer server({LocalServer::Reply{"", true}});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  Request request;
  request.url = server.Url("/k");
  request.timeout = 0ms;
  request.stall_timeout = 200ms;
  Result<Response> r = curl->Send(request);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kDeadlineExceeded);
  CHECK(Contains(r.status().message(), "no data moved"));
}

TEST_CASE("A streamed upload is sent chunked and answered", "[http]") {
  LocalServer server({LocalServer::Answer(201, "Created", "", "Computed-MD5: x\r\n")});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  Request request;
  request.method = "PUT";
  request.url = server.Url("/user/stor/obj");
  request.headers = {{"Content-Type", "application/octet-stream"}};
  request.timeout = 0ms;
  auto upload = curl->StartUpload(request);
  REQUIRE(upload.ok());
  const std::string big(300000, 'b');
  REQUIRE((*upload)->Write("first piece,").ok());
  REQUIRE((*upload)->Write(big).ok());
  REQUIRE((*upload)->Write("last").ok());
  Result<Response> done = (*upload)->Finish();
  REQUIRE(done.ok());
  CHECK(done->status == 201);
  CHECK(done->headers.at("computed-md5") == "x");
  const std::string sent = server.requests().at(0);
  CHECK(sent.rfind("PUT /user/stor/obj HTTP/1.1\r\n", 0) == 0);
  CHECK(Contains(sent, "\r\nTransfer-Encoding: chunked\r\n"));
  CHECK(Contains(sent, "first piece,"));
  CHECK(Contains(sent, "last\r\n0\r\n\r\n"));  // the body ends with the last, empty chunk
}

TEST_CASE("An aborted upload never completes its request", "[http]") {
  LocalServer server({LocalServer::Answer(201, "Created", "")});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  Request request;
  request.method = "PUT";
  request.url = server.Url("/user/stor/obj");
  request.timeout = 0ms;
  auto upload = curl->StartUpload(request);
  REQUIRE(upload.ok());
  REQUIRE((*upload)->Write("half of it").ok());
  (*upload)->Abort();
  upload->reset();
  for (int i = 0; i < 200 && server.requests().empty(); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(server.requests().size() == 1);
  const std::string sent = server.requests()[0];
  CHECK(Contains(sent, "half of it"));
  CHECK_FALSE(Contains(sent, "\r\n0\r\n\r\n"));
}

TEST_CASE("An upload the server refuses early fails, and Finish gives its answer", "[http]") {
  LocalServer::Reply refusal =
      LocalServer::Answer(403, "Forbidden", R"({"code":"InvalidSignature"})");
  refusal.early = true;
  LocalServer server({refusal});
  REQUIRE(server.ok());
  auto curl = NewCurl();
  Request request;
  request.method = "PUT";
  request.url = server.Url("/user/stor/obj");
  request.timeout = 0ms;
  request.stall_timeout = 5s;
  auto upload = curl->StartUpload(request);
  REQUIRE(upload.ok());
  CHECK_FALSE((*upload)->Answered());
  const std::string chunk(64 * 1024, 'c');
  Status st = Status::Ok();
  for (int i = 0; i < 2000 && st.ok(); ++i) st = (*upload)->Write(chunk);
  REQUIRE_FALSE(st.ok());  // 125 MiB cannot all fit in socket buffers
  REQUIRE((*upload)->Answered());
  Result<Response> answer = (*upload)->Finish();
  REQUIRE(answer.ok());
  CHECK(answer->status == 403);
  CHECK(answer->body == R"({"code":"InvalidSignature"})");
}

TEST_CASE("SocketTransport refuses what only CurlTransport does", "[http]") {
  SocketTransport socket;
  std::atomic<bool> cancel{false};
  Request signed_request;
  signed_request.url = "http://127.0.0.1:1/";
  signed_request.aws = {"aws:amz:us-east-1:s3", "k", "s"};
  Request sunk = signed_request;
  sunk.aws = {};
  sunk.body_sink = [](std::string_view) { return Status::Ok(); };
  Request cancellable = sunk;
  cancellable.body_sink = nullptr;
  cancellable.cancel = &cancel;
  for (const Request& r : {signed_request, sunk, cancellable}) {
    CHECK(socket.Send(r).status().code() == Code::kInvalidArgument);
  }
  CHECK(socket.StartUpload(sunk).status().code() == Code::kFailedPrecondition);
}

}  // namespace
}  // namespace manage::http
