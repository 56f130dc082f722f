#include "storage/manta_protocol.h"

#include <catch2/catch.hpp>

namespace manage::storage::manta {
namespace {

using namespace std::chrono;

TEST_CASE("Manta paths: components encoded, creatable directories below /account/stor") {
  CHECK(EncodePath("/acct/stor/backups") == "/acct/stor/backups");
  CHECK(EncodePath("/acct/stor/my backups/a+b@c") == "/acct/stor/my%20backups/a%2Bb%40c");
  CHECK(EncodePath("/") == "/");
  struct Row {
    std::string dir;
    std::vector<std::string> creatable;
  };
  const Row rows[] = {
      {"/acct/stor", {}},
      {"/acct", {}},
      {"/acct/stor/b", {"/acct/stor/b"}},
      {"/acct/stor/b/c/d", {"/acct/stor/b", "/acct/stor/b/c", "/acct/stor/b/c/d"}},
      {"/acct/public/x", {"/acct/public/x"}},
  };
  for (const Row& row : rows) {
    INFO(row.dir);
    CHECK(CreatableDirectories(row.dir) == row.creatable);
  }
}

TEST_CASE("a directory listing page: one JSON object per line, objects and directories") {
  const std::string body =
      R"({"name":"a","etag":"e1","size":12,"type":"object","contentType":"application/octet-stream","contentMD5":"x","mtime":"2026-01-01T00:00:01.250Z","durability":2})"
      "\n"
      R"({"name":"sub","type":"directory","mtime":"2025-12-31T23:59:59Z"})"
      "\n";
  auto page = ParseDirectoryPage(body);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 2);
  CHECK((*page)[0].name == "a");
  CHECK((*page)[0].type == "object");
  CHECK((*page)[0].size == 12);
  CHECK((*page)[0].etag == "e1");
  CHECK((*page)[0].mtime == sys_days{year{2026} / 1 / 1} + seconds(1) + milliseconds(250));
  CHECK((*page)[1].type == "directory");
  CHECK(ParseDirectoryPage("")->empty());
  CHECK_FALSE(ParseDirectoryPage("{\"name\":\"a\"\n").ok());
  CHECK_FALSE(ParseDirectoryPage("{\"name\":\"a\",\"type\":\"object\"}\n").ok());  // no mtime
}

TEST_CASE("HTTP and ISO dates parse; anything else does not") {
  struct Row {
    std::string text;
    std::optional<system_clock::time_point> t;
  };
  const Row http_rows[] = {
      {"Thu, 01 Jan 2026 00:00:00 GMT", sys_days{year{2026} / 1 / 1}},
      {"Tue, 29 Feb 2028 23:59:59 GMT",
       sys_days{year{2028} / 2 / 29} + hours(23) + minutes(59) + seconds(59)},
      {"Thu, 30 Feb 2026 00:00:00 GMT", std::nullopt},
      {"Thu, 01 Foo 2026 00:00:00 GMT", std::nullopt},
      {"Thu, 01 Jan 2026 00:00:00", std::nullopt},
      {"Thu, 01 Jan 2026 00:00:00 GMT trailing", std::nullopt},
      {"", std::nullopt},
  };
  for (const Row& row : http_rows) {
    INFO(row.text);
    CHECK(ParseHttpDate(row.text) == row.t);
  }
  const Row iso_rows[] = {
      {"2013-05-22T17:39:43.714Z",
       sys_days{year{2013} / 5 / 22} + hours(17) + minutes(39) + seconds(43) + milliseconds(714)},
      {"2026-01-01T00:00:00Z", sys_days{year{2026} / 1 / 1}},
      {"2026-01-01T00:00:00", std::nullopt},
      {"2026-01-01T00:00:00.Z", std::nullopt},
      {"2026-13-01T00:00:00Z", std::nullopt},
  };
  for (const Row& row : iso_rows) {
    INFO(row.text);
    CHECK(ParseIsoTime(row.text) == row.t);
  }
}

TEST_CASE("Manta's answers as statuses, with its code, message and the variable to check") {
  struct Row {
    long status;
    std::string body;
    Code code;
    std::vector<std::string> contains;
  };
  const Row rows[] = {
      {204, "", Code::kOk, {}},
      {206, "", Code::kOk, {}},
      {404,
       R"({"code":"ResourceNotFound","message":"/a/stor/x was not found"})",
       Code::kNotFound,
       {"GET /a/stor/x: HTTP 404 ResourceNotFound: /a/stor/x was not found"}},
      {404,
       R"({"code":"DirectoryDoesNotExist","message":"/a/stor/d does not exist"})",
       Code::kFailedPrecondition,
       {"DirectoryDoesNotExist", "MANTA_BUCKET"}},
      {403,
       R"({"code":"InvalidSignature","message":"The signature we calculated does not match the one you sent"})",
       Code::kFailedPrecondition,
       {"InvalidSignature", "MANTA_KEY_ID", "MANTA_PRIVATE_KEY"}},
      {403,
       R"({"code":"KeyDoesNotExist","message":"/a/keys/x does not exist"})",
       Code::kFailedPrecondition,
       {"KeyDoesNotExist", "MANTA_SUBUSER"}},
      {403,
       R"({"code":"AuthorizationFailed","message":"a/u is not allowed to access /a/stor"})",
       Code::kFailedPrecondition,
       {"AuthorizationFailed", "MANTA_ROLE"}},
      {409,
       R"({"code":"InvalidRole","message":"Role \"x\" is invalid."})",
       Code::kFailedPrecondition,
       {"InvalidRole", "MANTA_ROLE"}},
      {403,
       R"({"code":"SecureTransportRequired","message":"Manta requires a secure transport"})",
       Code::kFailedPrecondition,
       {"https://"}},
      {413,
       R"({"code":"MaxContentLengthExceeded","message":"request has exceeded 5 bytes"})",
       Code::kFailedPrecondition,
       {"MANTA_MAX_OBJECT_SIZE_GB"}},
      {507,
       R"({"code":"NotEnoughSpace","message":"not enough free space for 5 MB"})",
       Code::kFailedPrecondition,
       {"MANTA_MAX_OBJECT_SIZE_GB"}},
      {412,
       R"({"code":"PreconditionFailed","message":"if-match 'x' didn't match etag 'y'"})",
       Code::kAborted,
       {"PreconditionFailed"}},
      {500,
       R"({"code":"InternalError","message":"an unexpected error occurred"})",
       Code::kUnavailable,
       {"HTTP 500 InternalError"}},
      {503,
       R"({"code":"ServiceUnavailable","message":"manta is unable to serve this request"})",
       Code::kUnavailable,
       {"ServiceUnavailable"}},
      {408,
       R"({"code":"UploadTimeout","message":"request took too long to send data"})",
       Code::kUnavailable,
       {"UploadTimeout"}},
      {429, "", Code::kUnavailable, {"HTTP 429"}},
      {502, "<html>\nBad Gateway</html>", Code::kUnavailable, {"HTTP 502: <html> Bad Gateway"}},
      {401, "", Code::kFailedPrecondition, {"this host's clock"}},
  };
  for (const Row& row : rows) {
    INFO(row.status << " " << row.body);
    http::Response r;
    r.status = row.status;
    r.body = row.body;
    Status st = StatusOf(r, "GET /a/stor/x");
    CHECK(st.code() == row.code);
    for (const std::string& part : row.contains) CHECK_THAT(st.message(), Catch::Contains(part));
  }
}

TEST_CASE("directories are recognised by their content type") {
  http::Response r;
  r.headers["content-type"] = "application/x-json-stream; type=directory";
  CHECK(IsDirectory(r));
  r.headers["content-type"] = "application/octet-stream";
  CHECK_FALSE(IsDirectory(r));
  r.headers.clear();
  CHECK_FALSE(IsDirectory(r));
}

}  // namespace
}  // namespace manage::storage::manta
