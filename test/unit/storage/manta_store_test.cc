#include "storage/manta_store.h"

#include <catch2/catch.hpp>
#include <deque>

#include "fakes/fake_clock.h"
#include "fakes/fake_http.h"
#include "manta_test_keys.h"

namespace manage::storage {
namespace {

using http::FakeTransport;

constexpr char kUrl[] = "https://manta.test";
constexpr char kDirType[] = "application/x-json-stream; type=directory";
const std::map<std::string, std::string> kDirHeaders = {{"content-type", kDirType}};

std::string Header(const http::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// Delivers the next GETs' bodies only up to a byte count, then fails as a
// reset connection would; otherwise passes everything to FakeTransport.
class CuttingTransport final : public http::HttpTransport {
 public:
  FakeTransport fake;
  std::deque<size_t> cuts;  // for the next calls: bytes delivered before the failure

  Result<http::Response> Send(const http::Request& request) override {
    if (cuts.empty() || !request.body_sink) return fake.Send(request);
    size_t budget = cuts.front();
    cuts.pop_front();
    http::Request cut = request;
    cut.body_sink = [budget, sink = request.body_sink](std::string_view chunk) mutable {
      if (chunk.size() > budget) {
        if (budget > 0) MANAGE_RETURN_IF_ERROR(sink(chunk.substr(0, budget)));
        return Status::Unavailable("connection reset by peer");
      }
      budget -= chunk.size();
      return sink(chunk);
    };
    return fake.Send(cut);
  }
  Result<std::unique_ptr<http::UploadStream>> StartUpload(const http::Request& r) override {
    return fake.StartUpload(r);
  }
};

struct Fixture {
  CuttingTransport transport;
  FakeTransport& fake = transport.fake;
  sys::FakeClock clock;
  std::atomic<bool> cancel{false};
  std::vector<std::string> retried;
  MantaStoreOptions options;

  Fixture() {
    options.url = kUrl;
    options.directory = "/acct/stor/backups/c1";
    options.clock = &clock;
    options.cancel = &cancel;
    options.on_retry = [this](const Status& st, int, std::chrono::milliseconds) {
      retried.push_back(st.message());
    };
  }

  // A sink appending to *out.
  static sys::OutputSink Collect(std::string* out) {
    return [out](std::string_view chunk) {
      out->append(chunk);
      return Status::Ok();
    };
  }

  MantaStore Store() {
    MantaSettings s;
    s.user = "acct";
    s.private_key = MantaTestKey("ecdsa256");
    auto signer = MantaSigner::Create(s);
    REQUIRE(signer.ok());
    return MantaStore(&transport, std::move(*signer), options);
  }
};

TEST_CASE("Create checks the directory, then streams one signed chunked PUT") {
  Fixture f;
  SECTION("without a size limit") {}
  SECTION("with MANTA_MAX_OBJECT_SIZE_GB") { f.options.max_object_size = uint64_t{2} << 30; }
  MantaStore store = f.Store();
  f.fake.Push(200, "", kDirHeaders);
  f.fake.Push(204, "", {{"etag", "e1"}, {"computed-md5", "x"}});
  auto writer = store.Create("snap-1");
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Write("hello ").ok());
  REQUIRE((*writer)->Write("world").ok());
  REQUIRE((*writer)->Commit().ok());

  REQUIRE(f.fake.requests().size() == 2);
  const http::Request& head = f.fake.requests()[0];
  CHECK(head.method == "HEAD");
  CHECK(head.url == std::string(kUrl) + "/acct/stor/backups/c1");
  const http::Request& put = f.fake.requests()[1];
  CHECK(put.method == "PUT");
  CHECK(put.url == std::string(kUrl) + "/acct/stor/backups/c1/snap-1");
  CHECK(put.body == "hello world");
  CHECK(put.timeout.count() == 0);
  CHECK(put.stall_timeout.count() > 0);
  CHECK(put.cancel == &f.cancel);
  CHECK(Header(put, "Content-Type") == "application/octet-stream");
  CHECK(Header(put, "Date") == "Thu, 01 Jan 2026 00:00:00 GMT");
  CHECK_THAT(Header(put, "Authorization"),
             Catch::StartsWith("Signature keyId=\"/acct/keys/58:3c:af:fe:59:1f:7a:78:db:7b:0d:15:"
                               "ed:00:e4:81\",algorithm=\"ecdsa-sha256\",headers=\"date\","
                               "signature=\""));
  CHECK(Header(put, "Max-Content-Length") == (f.options.max_object_size > 0 ? "2147483648" : ""));
  CHECK(f.fake.open_uploads == 0);
  CHECK(f.fake.aborted_uploads == 0);

  // The directory is known to exist now: the next object goes straight up.
  f.fake.Push(204, "");
  auto second = store.Create("snap-2");
  REQUIRE(second.ok());
  REQUIRE((*second)->Commit().ok());
  CHECK(f.fake.requests().size() == 3);
  CHECK(f.fake.last().method == "PUT");
}

TEST_CASE("Create makes the missing directories, shallowest first") {
  Fixture f;
  MantaStore store = f.Store();
  f.fake.Push(404,
              R"({"code":"ResourceNotFound","message":"/acct/stor/backups/c1 was not found"})");
  f.fake.Push(404, R"({"code":"ResourceNotFound","message":"/acct/stor/backups was not found"})");
  f.fake.Push(204, "");  // PUT /acct/stor/backups
  f.fake.Push(204, "");  // PUT /acct/stor/backups/c1
  f.fake.Push(204, "");  // the object
  auto writer = store.Create("snap");
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Commit().ok());
  std::vector<std::string> seen;
  for (const http::Request& r : f.fake.requests()) {
    seen.push_back(r.method + " " + r.url.substr(sizeof kUrl - 1) + " " +
                   Header(r, "Content-Type"));
  }
  CHECK(seen == std::vector<std::string>{
                    "HEAD /acct/stor/backups/c1 ",
                    "HEAD /acct/stor/backups ",
                    "PUT /acct/stor/backups application/json; type=directory",
                    "PUT /acct/stor/backups/c1 application/json; type=directory",
                    "PUT /acct/stor/backups/c1/snap application/octet-stream",
                });
}

TEST_CASE("in MANTA_BUCKET's default, /account/stor, the directory is asked, never made") {
  Fixture f;
  f.options.directory = "/acct/stor";
  MantaStore store = f.Store();
  f.fake.Push(200, "", kDirHeaders);
  f.fake.Push(204, "");
  auto writer = store.Create("snap");
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Commit().ok());
  REQUIRE(f.fake.requests().size() == 2);
  CHECK(f.fake.requests()[0].method == "HEAD");
  CHECK(f.fake.requests()[0].url == std::string(kUrl) + "/acct/stor");
  CHECK(f.fake.requests()[1].url == std::string(kUrl) + "/acct/stor/snap");
}

TEST_CASE("directory checks are retried; refusals and objects in the way are clear errors") {
  Fixture f;
  MantaStore store = f.Store();
  SECTION("a 503 and a reset connection, then the directory") {
    f.fake.Push(503, R"({"code":"ServiceUnavailable","message":"manta is unable to serve"})");
    f.fake.PushError(Status::Unavailable("connection reset"));
    f.fake.Push(200, "", kDirHeaders);
    f.fake.Push(204, "");
    auto writer = store.Create("snap");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Commit().ok());
    CHECK(f.clock.sleeps().size() == 2);
    CHECK(f.retried.size() == 2);
  }
  SECTION("a wrong key: one clear error, no upload started") {
    f.fake.Push(
        403,
        R"({"code":"InvalidSignature","message":"The signature we calculated does not match the one you sent"})");
    auto writer = store.Create("snap");
    REQUIRE_FALSE(writer.ok());
    CHECK(writer.status().code() == Code::kFailedPrecondition);
    CHECK_THAT(writer.status().message(), Catch::Contains("InvalidSignature"));
    CHECK_THAT(writer.status().message(), Catch::Contains("MANTA_PRIVATE_KEY"));
    CHECK(f.fake.requests().size() == 1);
    CHECK(f.clock.sleeps().empty());
  }
  SECTION("an object where the directory should be") {
    f.fake.Push(200, "", {{"content-type", "application/octet-stream"}});
    auto writer = store.Create("snap");
    REQUIRE_FALSE(writer.ok());
    CHECK_THAT(writer.status().message(), Catch::Contains("is an object, not a directory"));
  }
}

TEST_CASE("a failed or abandoned upload never completes its PUT") {
  Fixture f;
  f.options.max_object_size = 9;  // bytes, for the test
  MantaStore store = f.Store();
  f.fake.Push(200, "", kDirHeaders);
  SECTION("the connection breaks mid-upload") {
    auto writer = store.Create("snap");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Write("part").ok());
    f.fake.write_error = Status::Unavailable("send failure: broken pipe");
    Status st = (*writer)->Write("more");
    CHECK(st.message() == "send failure: broken pipe");
    CHECK((*writer)->Commit().code() == Code::kFailedPrecondition);
  }
  SECTION("the writer is dropped before Commit") {
    auto writer = store.Create("snap");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Write("part").ok());
    writer->reset();
  }
  SECTION("the transfer is cancelled (backup lock lost)") {
    auto writer = store.Create("snap");
    REQUIRE(writer.ok());
    f.cancel = true;
    CHECK((*writer)->Write("part").code() == Code::kAborted);
  }
  SECTION("the object outgrows MANTA_MAX_OBJECT_SIZE_GB") {
    auto writer = store.Create("snap");
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Write("12345").ok());
    Status st = (*writer)->Write("67890");
    CHECK(st.code() == Code::kFailedPrecondition);
    CHECK_THAT(st.message(), Catch::Contains("MANTA_MAX_OBJECT_SIZE_GB"));
  }
  // Only the directory check reached the server: no PUT was ever finished.
  CHECK(f.fake.requests().size() == 1);
  CHECK(f.fake.aborted_uploads == 1);
  CHECK(f.fake.open_uploads == 0);
}

TEST_CASE("a PUT Manta answers with an error is not replayed") {
  Fixture f;
  MantaStore store = f.Store();
  f.fake.Push(200, "", kDirHeaders);
  f.fake.Push(500, R"({"code":"InternalError","message":"an unexpected error occurred"})");
  auto writer = store.Create("snap");
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Write("data").ok());
  Status st = (*writer)->Commit();
  CHECK(st.code() == Code::kUnavailable);
  CHECK_THAT(st.message(), Catch::Contains("HTTP 500 InternalError"));
  CHECK(f.fake.requests().size() == 2);
  CHECK(f.fake.unanswered() == 0);
}

TEST_CASE("a PUT Manta refuses before the body ended fails with Manta's reason, once") {
  Fixture f;
  MantaStore store = f.Store();
  f.fake.Push(200, "", kDirHeaders);
  f.fake.Push(403, R"({"code":"InvalidSignature","message":"The signature we calculated )"
                   R"(does not match the one you sent"})");
  f.fake.answer_early = true;
  auto writer = store.Create("snap");
  REQUIRE(writer.ok());
  Status st = (*writer)->Write("data");
  CHECK(st.code() == Code::kFailedPrecondition);
  CHECK_THAT(st.message(), Catch::Contains("HTTP 403 InvalidSignature"));
  CHECK(f.retried.empty());
  CHECK(f.fake.unanswered() == 0);
  CHECK((*writer)->Commit().code() == Code::kFailedPrecondition);  // the upload has ended
}

const std::map<std::string, std::string> kObjectHeaders = {
    {"content-length", "26"},
    {"etag", "0b9f2c1e-aaaa"},
    {"last-modified", "Thu, 01 Jan 2026 00:00:00 GMT"},
    {"content-type", "application/octet-stream"}};
constexpr char kBody[] = "abcdefghijklmnopqrstuvwxyz";

TEST_CASE("Read streams the object under If-Match and resumes where it broke off") {
  Fixture f;
  MantaStore store = f.Store();
  std::string got;
  auto sink = f.Collect(&got);
  f.fake.Push(200, "", kObjectHeaders);
  SECTION("in one piece") {
    f.fake.Push(200, kBody);
    REQUIRE(store.Read("snap", sink).ok());
    CHECK(f.fake.requests().size() == 2);
    CHECK(Header(f.fake.last(), "Range").empty());
  }
  SECTION("broken twice, each time after some bytes; more breaks than max_attempts") {
    f.options.retry.max_attempts = 2;
    MantaStore resuming = f.Store();
    f.transport.cuts = {9, 5};
    f.fake.Push(200, kBody);
    f.fake.Push(206, std::string(kBody).substr(9));
    f.fake.Push(206, std::string(kBody).substr(14));
    REQUIRE(resuming.Read("snap", sink).ok());
    REQUIRE(f.fake.requests().size() == 4);
    CHECK(Header(f.fake.requests()[1], "Range").empty());
    CHECK(Header(f.fake.requests()[2], "Range") == "bytes=9-");
    CHECK(Header(f.fake.requests()[3], "Range") == "bytes=14-");
    CHECK(f.retried.size() == 2);
  }
  CHECK(got == kBody);
  for (size_t i = 1; i < f.fake.requests().size(); ++i) {
    CHECK(f.fake.requests()[i].method == "GET");
    CHECK(Header(f.fake.requests()[i], "If-Match") == "0b9f2c1e-aaaa");
  }
}

TEST_CASE("Read fails clearly: missing, replaced, Range ignored, short, down, sink refusing") {
  Fixture f;
  MantaStore store = f.Store();
  std::string got;
  auto sink = f.Collect(&got);
  SECTION("no such object") {
    f.fake.Push(404, "");
    CHECK(store.Read("snap", sink).code() == Code::kNotFound);
  }
  SECTION("replaced while it was read") {
    f.fake.Push(200, "", kObjectHeaders);
    f.transport.cuts = {3};
    f.fake.Push(200, kBody);
    f.fake.Push(412, R"({"code":"PreconditionFailed","message":"etag mismatch"})");
    CHECK(store.Read("snap", sink).code() == Code::kAborted);
    CHECK(got == "abc");
  }
  SECTION("a server that ignores Range") {
    f.fake.Push(200, "", kObjectHeaders);
    f.transport.cuts = {3};
    f.fake.Push(200, kBody);
    f.fake.Push(200, kBody);
    Status st = store.Read("snap", sink);
    CHECK(st.code() == Code::kInternal);
    CHECK_THAT(st.message(), Catch::Contains("ignored the Range request"));
  }
  SECTION("a short object") {
    f.fake.Push(200, "", kObjectHeaders);
    f.fake.Push(200, "abc");
    CHECK_THAT(store.Read("snap", sink).message(), Catch::Contains("read 3 of 26 bytes"));
  }
  SECTION("down for longer than the retry policy, without progress") {
    f.options.retry.max_attempts = 3;
    MantaStore giving_up = f.Store();
    f.fake.Push(200, "", kObjectHeaders);
    for (int i = 0; i < 3; ++i) f.fake.Push(503, "");
    CHECK(giving_up.Read("snap", sink).code() == Code::kUnavailable);
    CHECK(f.fake.unanswered() == 0);
  }
  SECTION("the sink refuses: its error, not retried even when it looks transient") {
    f.fake.Push(200, "", kObjectHeaders);
    f.fake.Push(200, kBody);
    Status st =
        store.Read("snap", [](std::string_view) { return Status::Unavailable("disk full"); });
    CHECK(st.message() == "disk full");
    CHECK(f.fake.requests().size() == 2);
  }
}

TEST_CASE("Stat reads HEAD; a directory or a missing object is NotFound") {
  Fixture f;
  MantaStore store = f.Store();
  f.fake.Push(503, "");
  f.fake.Push(200, "", kObjectHeaders);
  auto info = store.Stat("snap");
  REQUIRE(info.ok());
  CHECK(info->name == "snap");
  CHECK(info->size == 26);
  CHECK(info->etag == "0b9f2c1e-aaaa");
  CHECK(info->mtime == std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});
  CHECK(f.fake.last().method == "HEAD");
  f.fake.Push(200, "", kDirHeaders);
  CHECK(store.Stat("dir").status().code() == Code::kNotFound);
  f.fake.Push(404, R"({"code":"ResourceNotFound","message":"x was not found"})");
  CHECK(store.Stat("gone").status().code() == Code::kNotFound);
  CHECK(store.Stat("a/b").status().code() == Code::kInvalidArgument);
}

std::string Entry(const std::string& name, const std::string& type = "object") {
  return R"({"name":")" + name + R"(","etag":"e-)" + name + R"(","size":7,"type":")" + type +
         R"(","mtime":"2026-01-02T03:04:05.000Z"})" + "\n";
}

TEST_CASE("List reads every page (limit, inclusive marker) and keeps matching objects") {
  Fixture f;
  f.options.list_page_size = 3;
  MantaStore store = f.Store();
  f.fake.Push(200, Entry("a-1") + Entry("b-1") + Entry("b-2"), kDirHeaders);
  f.fake.Push(200, Entry("b-2") + Entry("b dir", "directory") + Entry("b-3"), kDirHeaders);
  f.fake.PushError(Status::DeadlineExceeded("timed out"));
  f.fake.Push(200, Entry("b-3") + Entry("b-4.partial") + Entry("c"), kDirHeaders);
  f.fake.Push(200, Entry("c"), kDirHeaders);
  auto list = store.List("b-");
  REQUIRE(list.ok());
  std::vector<std::string> names;
  for (const ObjectInfo& o : *list) names.push_back(o.name);
  CHECK(names == std::vector<std::string>{"b-1", "b-2", "b-3"});
  CHECK((*list)[0].size == 7);
  CHECK((*list)[0].etag == "e-b-1");
  const auto& r = f.fake.requests();
  REQUIRE(r.size() == 5);
  CHECK(r[0].url == std::string(kUrl) + "/acct/stor/backups/c1?limit=3");
  CHECK(r[1].url == std::string(kUrl) + "/acct/stor/backups/c1?limit=3&marker=b-2");
  CHECK(r[3].url == std::string(kUrl) + "/acct/stor/backups/c1?limit=3&marker=b-3");
  CHECK(r[4].url == std::string(kUrl) + "/acct/stor/backups/c1?limit=3&marker=c");
}

TEST_CASE("List of a directory that does not exist yet is empty") {
  Fixture f;
  MantaStore store = f.Store();
  f.fake.Push(404,
              R"({"code":"ResourceNotFound","message":"/acct/stor/backups/c1 was not found"})");
  auto list = store.List("");
  REQUIRE(list.ok());
  CHECK(list->empty());
  f.fake.Push(403, R"({"code":"AuthorizationFailed","message":"no"})");
  CHECK(store.List("").status().code() == Code::kFailedPrecondition);
}

TEST_CASE("Remove is a DELETE; a retried one that finds nothing is done") {
  Fixture f;
  MantaStore store = f.Store();
  f.fake.Push(204, "");
  CHECK(store.Remove("snap").ok());
  CHECK(f.fake.last().method == "DELETE");
  CHECK(f.fake.last().url == std::string(kUrl) + "/acct/stor/backups/c1/snap");
  f.fake.Push(404, R"({"code":"ResourceNotFound","message":"gone"})");
  CHECK(store.Remove("snap").code() == Code::kNotFound);
  f.fake.PushError(Status::Unavailable("connection reset"));
  f.fake.Push(404, R"({"code":"ResourceNotFound","message":"gone"})");
  CHECK(store.Remove("snap").ok());
  CHECK(store.Location() == "manta:/acct/stor/backups/c1");
}

TEST_CASE("a raised cancel flag stops requests before they are sent") {
  Fixture f;
  MantaStore store = f.Store();
  f.cancel = true;
  CHECK(store.Stat("snap").status().code() == Code::kAborted);
  CHECK(store.List("").status().code() == Code::kAborted);
  CHECK(store.Remove("snap").code() == Code::kAborted);
  CHECK(f.fake.requests().empty());
}

}  // namespace
}  // namespace manage::storage
