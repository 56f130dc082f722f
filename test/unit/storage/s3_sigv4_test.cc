// AWS's published SigV4 examples for S3 ("Examples: Signature Calculations"
// in the S3 API reference: bucket examplebucket, us-east-1,
// 2013-05-24T00:00:00Z), built by S3Request and signed by libcurl through
// CurlTransport. Each expected signature was also computed independently with
// botocore's S3SigV4Auth.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "http/transport.h"
#include "storage/s3_request.h"
#include "unit/http/local_server.h"

namespace manage::storage {
namespace {

// The Authorization header of the one request `server` received.
std::string Authorization(const http::LocalServer& server) {
  const std::string sent = server.requests().at(0);
  const size_t at = sent.find("\r\nAuthorization: ");
  if (at == std::string::npos) return "";
  const size_t from = at + 17;
  return sent.substr(from, sent.find("\r\n", from) - from);
}

TEST_CASE("S3 requests are signed as AWS's published examples", "[sigv4]") {
  S3Settings s3;
  s3.endpoint = "https://s3.amazonaws.com";
  s3.bucket = "examplebucket";
  s3.region = "us-east-1";
  s3.access_key = "AKIAIOSFODNN7EXAMPLE";
  s3.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const std::string host = "https://examplebucket.s3.amazonaws.com";
  struct Row {
    std::string name, method, key;
    QueryParams query;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string url, signed_headers, signature;
  };
  const Row rows[] = {
      {"GET object",
       "GET",
       "test.txt",
       {},
       "",
       {{"Range", "bytes=0-9"}},
       host + "/test.txt",
       "host;range;x-amz-content-sha256;x-amz-date",
       "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
      {"PUT object",
       "PUT",
       "test$file.text",
       {},
       "Welcome to Amazon S3.",
       {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
       host + "/test%24file.text",
       "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
       "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
      {"GET bucket lifecycle",
       "GET",
       "",
       {{"lifecycle", ""}},
       "",
       {},
       host + "/?lifecycle=",
       "host;x-amz-content-sha256;x-amz-date",
       "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
      {"GET bucket (list objects)",
       "GET",
       "",
       {{"prefix", "J"}, {"max-keys", "2"}},
       "",
       {},
       host + "/?max-keys=2&prefix=J",
       "host;x-amz-content-sha256;x-amz-date",
       "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Result<http::Request> request = S3Request(s3, row.method, row.key, row.query, row.body);
    REQUIRE(request.ok());
    REQUIRE(request->url == row.url);
    http::LocalServer server({http::LocalServer::Answer(200, "OK", "")});
    REQUIRE(server.ok());
    // Sent to the local server, signed for AWS's host and date.
    request->url = server.Url(row.url.substr(host.size()));
    request->headers.emplace_back("Host", "examplebucket.s3.amazonaws.com");
    request->headers.emplace_back("X-Amz-Date", "20130524T000000Z");
    for (const auto& header : row.headers) request->headers.push_back(header);
    Result<std::unique_ptr<http::CurlTransport>> curl = http::CurlTransport::Create();
    REQUIRE(curl.ok());
    REQUIRE((*curl)->Send(*request).ok());
    CHECK(Authorization(server) ==
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
          "SignedHeaders=" +
              row.signed_headers + ", Signature=" + row.signature);
  }
}

}  // namespace
}  // namespace manage::storage
