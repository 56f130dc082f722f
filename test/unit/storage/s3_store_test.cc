#include "storage/s3_store.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "fakes/fake_clock.h"
#include "fakes/fake_http.h"
#include "storage/s3_request.h"

namespace manage::storage {
namespace {

using http::FakeTransport;
using http::Request;

constexpr char kCreated[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult><Bucket>backups"
    "</Bucket><Key>team/snap</Key><UploadId>u/1</UploadId></InitiateMultipartUploadResult>";
constexpr char kCompleted[] =
    "<CompleteMultipartUploadResult><Bucket>backups</Bucket><Key>team/snap</Key>"
    "<ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>";
const std::string kBase = "http://s3.test:9000/backups/team/snap";

std::string Error(const std::string& code) {
  return "<Error><Code>" + code + "</Code><Message>it failed</Message></Error>";
}

std::map<std::string, std::string> HeadOf(size_t size, const std::string& etag = "\"e-2\"") {
  return {{"content-length", std::to_string(size)},
          {"etag", etag},
          {"last-modified", "Fri, 24 May 2013 00:00:00 GMT"}};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Header(const Request& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

// The store under test over a scripted transport and a clock that never waits.
struct World {
  explicit World(std::string prefix = "team")
      : store(Settings(), std::move(prefix), &http, Context()) {}

  S3Settings Settings() {
    S3Settings s;
    s.endpoint = "http://s3.test:9000";
    s.bucket = "backups";
    s.access_key = "AKID";
    s.secret_key = "secret";
    return s;
  }
  StoreContext Context() {
    StoreContext c;
    c.clock = &clock;
    c.cancel = &cancel;
    c.on_retry = [this](const Status& failure, int, std::chrono::milliseconds) {
      retried.push_back(failure.message());
    };
    return c;
  }
  // "METHOD url" of every request sent.
  std::vector<std::string> Sent() const {
    std::vector<std::string> out;
    for (const Request& r : http.requests()) out.push_back(r.method + " " + r.url);
    return out;
  }

  FakeTransport http;
  sys::FakeClock clock;
  std::atomic<bool> cancel{false};
  std::vector<std::string> retried;
  S3Store store;
};

// Answers the upload's creation and its first part (ETag "e1").
void ScriptFirstPart(World& w) {
  w.http.Push(200, kCreated);
  w.http.Push(200, "", {{"etag", "\"e1\""}});
}

std::unique_ptr<ObjectWriter> Writer(World& w) {
  auto writer = w.store.Create("snap");
  REQUIRE(writer.ok());
  return std::move(*writer);
}

// Writes `bytes` bytes in 64 KiB pieces of 'a', 'b', ... (one letter a piece).
Status WriteBytes(ObjectWriter& writer, uint64_t bytes, std::string* all = nullptr) {
  char letter = 'a';
  for (uint64_t done = 0; done < bytes;) {
    const std::string piece(std::min<uint64_t>(64 * 1024, bytes - done), letter);
    letter = letter == 'z' ? 'a' : static_cast<char>(letter + 1);
    if (all != nullptr) all->append(piece);
    MANAGE_RETURN_IF_ERROR(writer.Write(piece));
    done += piece.size();
  }
  return Status::Ok();
}

TEST_CASE("S3Store: a stream smaller than a part is one PUT, sent on Commit") {
  World w;
  auto writer = Writer(w);
  REQUIRE(writer->Write("hello ").ok());
  REQUIRE(writer->Write("world").ok());
  CHECK(w.http.requests().empty());
  w.http.Push(200, "", {{"etag", "\"e\""}});
  REQUIRE(writer->Commit().ok());
  REQUIRE(w.Sent() == std::vector<std::string>{"PUT " + kBase});
  const Request& put = w.http.last();
  CHECK(put.body == "hello world");
  CHECK(Header(put, "Content-Type") == "application/octet-stream");
  CHECK(Header(put, "x-amz-content-sha256") ==
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  CHECK(put.aws.provider == "aws:amz:us-east-1:s3");
  writer.reset();
  CHECK(w.http.requests().size() == 1);  // nothing to abort
}

TEST_CASE("S3Store: a larger stream is a multipart upload of 8 MiB parts") {
  World w;
  auto writer = Writer(w);
  ScriptFirstPart(w);
  std::string all;
  REQUIRE(WriteBytes(*writer, PartSize(1) + 10, &all).ok());
  CHECK(w.http.requests().size() == 2);  // the first part went as soon as it was full
  w.http.Push(200, "", {{"etag", "\"e2\""}});
  w.http.Push(200, kCompleted);
  REQUIRE(writer->Commit().ok());
  CHECK(w.Sent() ==
        std::vector<std::string>{
            "POST " + kBase + "?uploads=", "PUT " + kBase + "?partNumber=1&uploadId=u%2F1",
            "PUT " + kBase + "?partNumber=2&uploadId=u%2F1", "POST " + kBase + "?uploadId=u%2F1"});
  const auto& sent = w.http.requests();
  CHECK(sent[1].body == all.substr(0, PartSize(1)));
  CHECK(sent[2].body == all.substr(PartSize(1)));
  CHECK(sent[3].body == CompleteMultipartBody({"\"e1\"", "\"e2\""}));
  CHECK(Header(sent[3], "Content-Type") == "application/xml");
  writer.reset();
  CHECK(w.http.requests().size() == 4);  // committed: no abort
}

TEST_CASE("S3Store: over https, object data is sent as UNSIGNED-PAYLOAD") {
  FakeTransport http;
  sys::FakeClock clock;
  S3Settings s3;
  s3.endpoint = "https://s3.eu-west-1.amazonaws.com";
  s3.region = "eu-west-1";
  s3.bucket = "backups";
  StoreContext context;
  context.clock = &clock;
  S3Store store(s3, "", &http, context);
  auto writer = store.Create("snap");
  REQUIRE(writer.ok());
  http.Push(200, kCreated);
  http.Push(200, "", {{"etag", "\"e1\""}});
  http.Push(200, "", {{"etag", "\"e2\""}});
  http.Push(200, kCompleted);
  REQUIRE(WriteBytes(**writer, PartSize(1) + 1).ok());
  REQUIRE((*writer)->Commit().ok());
  const auto& sent = http.requests();
  REQUIRE(sent.size() == 4);
  CHECK(sent[1].url ==
        "https://backups.s3.eu-west-1.amazonaws.com/snap?partNumber=1&uploadId=u%2F1");
  CHECK(Header(sent[1], "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  CHECK(Header(sent[2], "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  // The completion's small XML body is still signed.
  CHECK(Header(sent[3], "x-amz-content-sha256").size() == 64);
}

TEST_CASE("S3Store: a stream of exactly one part has no empty last part") {
  World w;
  auto writer = Writer(w);
  ScriptFirstPart(w);
  w.http.Push(200, kCompleted);
  REQUIRE(WriteBytes(*writer, PartSize(1)).ok());
  REQUIRE(writer->Commit().ok());
  CHECK(w.http.last().body == CompleteMultipartBody({"\"e1\""}));
}

TEST_CASE("S3Store: a part answered 500, or cut off, is sent again") {
  struct Row {
    std::string name;
    bool error_answer;  // else the connection drops mid-part
  };
  for (const Row& row : {Row{"500 then 200", true}, Row{"dropped then 200", false}}) {
    INFO(row.name);
    World w;
    auto writer = Writer(w);
    w.http.Push(200, kCreated);
    if (row.error_answer) {
      w.http.Push(500, Error("InternalError"));
    } else {
      w.http.PushError(
          Status::Unavailable("PUT http://s3.test:9000/...: Connection reset by peer"));
    }
    w.http.Push(200, "", {{"etag", "\"e1\""}});
    w.http.Push(200, "", {{"etag", "\"e2\""}});
    w.http.Push(200, kCompleted);
    REQUIRE(WriteBytes(*writer, PartSize(1) + 1).ok());
    REQUIRE(writer->Commit().ok());
    const auto& sent = w.http.requests();
    REQUIRE(sent.size() == 5);
    CHECK(sent[1].url == sent[2].url);
    CHECK(sent[1].body == sent[2].body);
    CHECK(sent[4].body == CompleteMultipartBody({"\"e1\"", "\"e2\""}));
    CHECK(w.retried.size() == 1);
    CHECK(w.clock.sleeps().size() == 1);
  }
}

TEST_CASE("S3Store: a completion answered 200 with an <Error> inside is retried") {
  World w;
  auto writer = Writer(w);
  ScriptFirstPart(w);
  w.http.Push(200, "", {{"etag", "\"e2\""}});
  w.http.Push(200, Error("InternalError"));
  w.http.Push(200, kCompleted);
  REQUIRE(WriteBytes(*writer, PartSize(1) + 1).ok());
  REQUIRE(writer->Commit().ok());
  CHECK(w.http.requests().size() == 5);
  REQUIRE(w.retried.size() == 1);
  CHECK(Contains(w.retried[0], "HTTP 200 InternalError"));
}

TEST_CASE("S3Store: a completion whose answer was lost is recognised on the retry") {
  struct Row {
    std::string name;
    std::map<std::string, std::string> head;  // empty: 404
    bool committed;
  };
  const uint64_t size = PartSize(1) + 1;
  const Row rows[] = {
      {"our object", HeadOf(size, "\"x-2\""), true},
      {"another size", HeadOf(size + 1, "\"x-2\""), false},
      {"another part count", HeadOf(size, "\"x-3\""), false},
      {"no object", {}, false},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    World w;
    auto writer = Writer(w);
    ScriptFirstPart(w);
    w.http.Push(200, "", {{"etag", "\"e2\""}});
    w.http.PushError(Status::Unavailable("POST: Empty reply from server"));
    w.http.Push(404, Error("NoSuchUpload"));
    if (row.head.empty()) {
      w.http.Push(404, "");
    } else {
      w.http.Push(200, "", row.head);
    }
    if (!row.committed) w.http.Push(404, Error("NoSuchUpload"));  // the abort
    REQUIRE(WriteBytes(*writer, size).ok());
    Status st = writer->Commit();
    CHECK(st.ok() == row.committed);
    if (!row.committed) CHECK(Contains(st.message(), "NoSuchUpload"));
    CHECK(w.http.unanswered() == 0);
  }
}

TEST_CASE("S3Store: a final failure gives one clear error and aborts the upload") {
  struct Row {
    std::string name;
    long status;
    std::string body;
    Code want;
    std::string mentions;
    size_t part_attempts;
  };
  const Row rows[] = {
      {"wrong secret", 403, Error("SignatureDoesNotMatch"), Code::kFailedPrecondition,
       "AWS_SECRET_ACCESS_KEY", 1},
      {"denied", 403, Error("AccessDenied"), Code::kFailedPrecondition, "AWS_ACCESS_KEY_ID", 1},
      {"store down", 503, Error("ServiceUnavailable"), Code::kUnavailable, "gave up after 6", 6},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    World w;
    auto writer = Writer(w);
    w.http.Push(200, kCreated);
    for (size_t i = 0; i < row.part_attempts; ++i) w.http.Push(row.status, row.body);
    w.http.Push(204, "");  // the abort
    Status st = WriteBytes(*writer, PartSize(1));
    REQUIRE(st.code() == row.want);
    CHECK(Contains(st.message(), row.mentions));
    CHECK(Contains(st.message(), "s3://backups/team/snap"));
    CHECK(w.http.requests().size() == 2 + row.part_attempts);
    CHECK(w.Sent().back() == "DELETE " + kBase + "?uploadId=u%2F1");
    CHECK(w.http.unanswered() == 0);
    // The writer is spent; nothing more is sent.
    CHECK(writer->Commit().code() == Code::kFailedPrecondition);
    writer.reset();
    CHECK(w.http.requests().size() == 2 + row.part_attempts);
  }
}

TEST_CASE("S3Store: a missing bucket fails the first request, naming the bucket") {
  SECTION("single PUT") {
    World w;
    auto writer = Writer(w);
    REQUIRE(writer->Write("x").ok());
    w.http.Push(404, Error("NoSuchBucket"));
    Status st = writer->Commit();
    CHECK(st.code() == Code::kFailedPrecondition);
    CHECK(Contains(st.message(), "bucket 'backups' does not exist"));
    CHECK(w.http.requests().size() == 1);
  }
  SECTION("multipart") {
    World w;
    auto writer = Writer(w);
    w.http.Push(404, Error("NoSuchBucket"));
    Status st = WriteBytes(*writer, PartSize(1));
    CHECK(st.code() == Code::kFailedPrecondition);
    CHECK(Contains(st.message(), "AWS_BUCKET"));
    CHECK(w.Sent() ==
          std::vector<std::string>{"POST " + kBase + "?uploads="});  // no upload to abort
  }
}

TEST_CASE("S3Store: an uncommitted writer leaves nothing behind") {
  SECTION("destroyed mid-upload: the multipart upload is aborted") {
    World w;
    auto writer = Writer(w);
    ScriptFirstPart(w);
    REQUIRE(WriteBytes(*writer, PartSize(1) + 100).ok());
    w.http.Push(204, "");
    writer.reset();
    CHECK(w.Sent().back() == "DELETE " + kBase + "?uploadId=u%2F1");
    CHECK(w.http.requests().size() == 3);  // the buffered rest was never sent
  }
  SECTION("aborted before the first part: nothing was ever sent") {
    World w;
    auto writer = Writer(w);
    REQUIRE(writer->Write("partial").ok());
    writer->Abort();
    writer->Abort();
    writer.reset();
    CHECK(w.http.requests().empty());
  }
  SECTION("a failed completion aborts") {
    World w;
    auto writer = Writer(w);
    ScriptFirstPart(w);
    w.http.Push(400, Error("InvalidPart"));
    w.http.Push(204, "");
    REQUIRE(WriteBytes(*writer, PartSize(1)).ok());
    Status st = writer->Commit();
    CHECK(st.code() == Code::kInternal);
    CHECK(Contains(st.message(), "InvalidPart"));
    CHECK(w.Sent().back() == "DELETE " + kBase + "?uploadId=u%2F1");
  }
}

TEST_CASE("S3Store: the cancel flag stops an upload with Aborted, and it is still aborted") {
  SECTION("raised between writes") {
    World w;
    auto writer = Writer(w);
    ScriptFirstPart(w);
    REQUIRE(WriteBytes(*writer, PartSize(1) + 1).ok());
    w.cancel = true;
    w.http.Push(204, "");
    CHECK(writer->Write("more").code() == Code::kAborted);
    CHECK(w.Sent().back() == "DELETE " + kBase + "?uploadId=u%2F1");
    CHECK(w.http.last().cancel == nullptr);  // the abort itself is not cancelled
  }
  SECTION("raised while a part waits to be retried") {
    World w;
    auto writer = Writer(w);
    w.http.Push(200, kCreated);
    w.http.Push(503, Error("SlowDown"));
    w.http.Push(204, "");
    w.clock.on_sleep = [&w] { w.cancel = true; };
    Status st = WriteBytes(*writer, PartSize(1));
    CHECK(st.code() == Code::kAborted);
    CHECK(w.Sent().back() == "DELETE " + kBase + "?uploadId=u%2F1");
    CHECK(w.http.requests().size() == 3);
  }
  SECTION("transfers carry the flag") {
    World w;
    auto writer = Writer(w);
    REQUIRE(writer->Write("x").ok());
    w.http.Push(200, "");
    REQUIRE(writer->Commit().ok());
    CHECK(w.http.last().cancel == &w.cancel);
  }
}

// Delivers only the first `cut` bytes of the next GET's body, then fails as a
// dropped connection does.
class DroppingTransport final : public http::HttpTransport {
 public:
  explicit DroppingTransport(FakeTransport* inner) : inner_(inner) {}
  size_t cut = 0;
  bool armed = false;
  Result<http::Response> Send(const Request& request) override {
    if (!armed || request.method != "GET") return inner_->Send(request);
    armed = false;
    Request cut_short = request;
    size_t passed = 0;
    cut_short.body_sink = [&](std::string_view chunk) {
      const size_t n = std::min(chunk.size(), cut - passed);
      if (n > 0) MANAGE_RETURN_IF_ERROR(request.body_sink(chunk.substr(0, n)));
      passed += n;
      if (passed == cut) return Status::Unavailable("GET: transfer closed with bytes remaining");
      return Status::Ok();
    };
    return inner_->Send(cut_short);
  }

 private:
  FakeTransport* inner_;
};

struct ReadWorld : World {
  ReadWorld() : dropping(&http), reader(Settings(), "team", &dropping, Context()) {}
  DroppingTransport dropping;
  S3Store reader;
};

// A sink that appends every chunk to `got`.
sys::OutputSink Collect(std::string& got) {
  return [&got](std::string_view chunk) {
    got.append(chunk);
    return Status::Ok();
  };
}

TEST_CASE("S3Store: Read streams the object, each byte once, resuming after a drop") {
  const std::string object = "0123456789abcdefghijklmnopqrstuvwxyz";
  SECTION("in one answer") {
    ReadWorld w;
    w.http.Push(200, "", HeadOf(object.size()));
    w.http.Push(200, object);
    std::string got;
    REQUIRE(w.reader.Read("snap", Collect(got)).ok());
    CHECK(got == object);
    CHECK(w.Sent() == std::vector<std::string>{"HEAD " + kBase, "GET " + kBase});
    CHECK(Header(w.http.last(), "If-Match") == "\"e-2\"");
    CHECK(Header(w.http.last(), "Range").empty());
  }
  SECTION("cut off after 10 bytes: the rest with a Range") {
    ReadWorld w;
    w.http.Push(200, "", HeadOf(object.size()));
    w.http.Push(200, object);
    w.http.Push(206, object.substr(10));
    w.dropping.armed = true;
    w.dropping.cut = 10;
    std::string got;
    REQUIRE(w.reader.Read("snap", Collect(got)).ok());
    CHECK(got == object);
    CHECK(Header(w.http.last(), "Range") == "bytes=10-");
    CHECK(Header(w.http.last(), "If-Match") == "\"e-2\"");
    CHECK(w.retried.size() == 1);
  }
  SECTION("the object changed before the rest was read") {
    ReadWorld w;
    w.http.Push(200, "", HeadOf(object.size()));
    w.http.Push(200, object);
    w.http.Push(412, Error("PreconditionFailed"));
    w.dropping.armed = true;
    w.dropping.cut = 10;
    Status st = w.reader.Read("snap", [](std::string_view) { return Status::Ok(); });
    CHECK(st.code() == Code::kFailedPrecondition);
    CHECK(Contains(st.message(), "changed"));
  }
  SECTION("a store that ignores the Range is not trusted") {
    ReadWorld w;
    w.http.Push(200, "", HeadOf(object.size()));
    w.http.Push(200, object);
    w.http.Push(200, object.substr(10));
    w.dropping.armed = true;
    w.dropping.cut = 10;
    Status st = w.reader.Read("snap", [](std::string_view) { return Status::Ok(); });
    CHECK(st.code() == Code::kInternal);
  }
  SECTION("an answer shorter than the object is resumed") {
    ReadWorld w;
    w.http.Push(200, "", HeadOf(object.size()));
    w.http.Push(200, object.substr(0, 5));
    w.http.Push(206, object.substr(5));
    std::string got;
    REQUIRE(w.reader.Read("snap", Collect(got)).ok());
    CHECK(got == object);
  }
  SECTION("an empty object") {
    ReadWorld w;
    w.http.Push(200, "", HeadOf(0));
    w.http.Push(200, "");
    int calls = 0;
    REQUIRE(w.reader
                .Read("snap",
                      [&calls](std::string_view) {
                        ++calls;
                        return Status::Ok();
                      })
                .ok());
    CHECK(calls == 0);
  }
}

TEST_CASE("S3Store: Read fails once, clearly") {
  SECTION("missing object") {
    World w;
    w.http.Push(404, "");
    CHECK(w.store.Read("snap", [](std::string_view) { return Status::Ok(); }).code() ==
          Code::kNotFound);
    CHECK(w.http.requests().size() == 1);
  }
  SECTION("the sink's error is returned and never retried") {
    World w;
    w.http.Push(200, "", HeadOf(20));
    w.http.Push(200, std::string(20, 'x'));
    Status st =
        w.store.Read("snap", [](std::string_view) { return Status::Unavailable("disk full"); });
    CHECK(st.code() == Code::kUnavailable);
    CHECK(st.message() == "disk full");
    CHECK(w.http.requests().size() == 2);
  }
  SECTION("cancelled") {
    World w;
    w.http.Push(200, "", HeadOf(20));
    w.cancel = true;
    CHECK(w.store.Read("snap", [](std::string_view) { return Status::Ok(); }).code() ==
          Code::kAborted);
  }
}

TEST_CASE("S3Store: Stat is a HEAD") {
  World w;
  w.http.Push(200, "", HeadOf(1234, "\"abc\""));
  Result<ObjectInfo> info = w.store.Stat("snap");
  REQUIRE(info.ok());
  CHECK(info->name == "snap");
  CHECK(info->size == 1234);
  CHECK(info->etag == "\"abc\"");
  CHECK(w.Sent() == std::vector<std::string>{"HEAD " + kBase});
  w.http.Push(404, "");
  CHECK(w.store.Stat("snap").status().code() == Code::kNotFound);
  w.http.Push(403, "");
  Result<ObjectInfo> denied = w.store.Stat("snap");
  CHECK(denied.status().code() == Code::kFailedPrecondition);
  CHECK(Contains(denied.status().message(), "AWS_SECRET_ACCESS_KEY"));
  CHECK(w.store.Stat("../x").status().code() == Code::kInvalidArgument);
}

TEST_CASE("S3Store: List reads every page, under the prefix, sorted") {
  World w;
  auto entry = [](const std::string& key, int size) {
    return "<Contents><Key>" + key +
           "</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
           "<ETag>&quot;e&quot;</ETag><Size>" +
           std::to_string(size) + "</Size></Contents>";
  };
  w.http.Push(200, "<ListBucketResult><IsTruncated>true</IsTruncated>" + entry("team/snap-2", 2) +
                       entry("team/snap-3", 3) +
                       "<NextContinuationToken>t/1=</NextContinuationToken></ListBucketResult>");
  w.http.Push(200, "<ListBucketResult><IsTruncated>false</IsTruncated>" + entry("team/snap-1", 1) +
                       entry("other/snap-9", 9) + entry("team/.hidden", 1) +
                       "<CommonPrefixes><Prefix>team/snap-x/</Prefix></CommonPrefixes>"
                       "</ListBucketResult>");
  Result<std::vector<ObjectInfo>> list = w.store.List("snap-");
  REQUIRE(list.ok());
  std::vector<std::string> names;
  for (const ObjectInfo& o : *list) names.push_back(o.name + ":" + std::to_string(o.size));
  CHECK(names == std::vector<std::string>{"snap-1:1", "snap-2:2", "snap-3:3"});
  CHECK(w.Sent() ==
        std::vector<std::string>{
            "GET http://s3.test:9000/backups?delimiter=%2F&list-type=2&prefix=team%2Fsnap-",
            "GET http://s3.test:9000/backups?continuation-token=t%2F1%3D&delimiter=%2F&list-type=2"
            "&prefix=team%2Fsnap-"});

  World bare("");
  bare.http.Push(200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  REQUIRE(bare.store.List("").ok());
  CHECK(bare.Sent() == std::vector<std::string>{
                           "GET http://s3.test:9000/backups?delimiter=%2F&list-type=2&prefix="});
  bare.http.Push(404, Error("NoSuchBucket"));
  CHECK(bare.store.List("").status().code() == Code::kFailedPrecondition);
  bare.http.Push(200,
                 "<ListBucketResult><IsTruncated>true</IsTruncated>"
                 "<NextContinuationToken>same</NextContinuationToken></ListBucketResult>");
  bare.http.Push(200,
                 "<ListBucketResult><IsTruncated>true</IsTruncated>"
                 "<NextContinuationToken>same</NextContinuationToken></ListBucketResult>");
  CHECK(bare.store.List("").status().code() == Code::kInternal);
}

TEST_CASE("S3Store: Remove deletes an object that exists, NotFound otherwise") {
  World w;
  w.http.Push(200, "", HeadOf(1));
  w.http.Push(204, "");
  REQUIRE(w.store.Remove("snap").ok());
  CHECK(w.Sent() == std::vector<std::string>{"HEAD " + kBase, "DELETE " + kBase});
  w.http.Push(404, "");
  CHECK(w.store.Remove("snap").code() == Code::kNotFound);
  CHECK(w.http.requests().size() == 3);
}

TEST_CASE("S3Store: names and location") {
  World w;
  CHECK(w.store.Location() == "s3://backups/team/");
  CHECK(World("").store.Location() == "s3://backups/");
  CHECK(w.store.Create("a/b").status().code() == Code::kInvalidArgument);
  CHECK(w.store.Remove("").code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace manage::storage
