#include "storage/s3_request.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace manage::storage {
namespace {

namespace chr = std::chrono;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;
const char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

S3Settings Settings(std::string endpoint, std::string bucket,
                    S3Addressing addressing = S3Addressing::kAuto) {
  S3Settings s;
  s.endpoint = std::move(endpoint);
  s.bucket = std::move(bucket);
  s.addressing = addressing;
  s.access_key = "AKID";
  s.secret_key = "secret";
  return s;
}

chr::system_clock::time_point At(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return chr::sys_days{chr::year{y} / mo / d} + chr::hours{h} + chr::minutes{mi} + chr::seconds{s};
}

TEST_CASE("AwsUriEncode keeps only unreserved characters, and '/' in keys") {
  struct Row {
    std::string in;
    bool keep_slash;
    std::string want;
  };
  const Row rows[] = {
      {"AZaz09-._~", false, "AZaz09-._~"},
      {"a b", false, "a%20b"},
      {"a/b", false, "a%2Fb"},
      {"a/b", true, "a/b"},
      {"test$file.text", true, "test%24file.text"},
      {"+=&?%", false, "%2B%3D%26%3F%25"},
      {"\xc3\xbc", false, "%C3%BC"},
      {"", true, ""},
  };
  for (const Row& row : rows) {
    INFO(row.in);
    CHECK(AwsUriEncode(row.in, row.keep_slash) == row.want);
  }
}

TEST_CASE("CanonicalQuery sorts, encodes and writes empty values as 'name='") {
  struct Row {
    QueryParams params;
    std::string want;
  };
  const Row rows[] = {
      {{}, ""},
      {{{"lifecycle", ""}}, "lifecycle="},
      {{{"uploads", ""}}, "uploads="},
      {{{"prefix", "J"}, {"max-keys", "2"}}, "max-keys=2&prefix=J"},
      {{{"uploadId", "a/b+c="}, {"partNumber", "10"}}, "partNumber=10&uploadId=a%2Fb%2Bc%3D"},
      {{{"prefix", "team a/mysql-"}, {"list-type", "2"}, {"continuation-token", "1/x=="}},
       "continuation-token=1%2Fx%3D%3D&list-type=2&prefix=team%20a%2Fmysql-"},
      // Sorted by encoded bytes: upper case before lower case, then by value.
      {{{"b", "2"}, {"B", "1"}, {"b", "1"}}, "B=1&b=1&b=2"},
  };
  for (const Row& row : rows) {
    INFO(row.want);
    CHECK(CanonicalQuery(row.params) == row.want);
  }
}

TEST_CASE("IsDnsSafeBucket accepts names that can be a host label") {
  struct Row {
    std::string bucket;
    bool https;
    bool want;
  };
  const Row rows[] = {
      {"backups", true, true},    {"my-bucket-1", true, true}, {"my.bucket", false, true},
      {"my.bucket", true, false}, {"ab", true, false},         {std::string(64, 'a'), true, false},
      {"Backups", true, false},   {"-backups", true, false},   {"backups-", true, false},
      {"my_bucket", true, false}, {"a..b", false, false},      {"abc", true, true},
  };
  for (const Row& row : rows) {
    INFO(row.bucket << " https=" << row.https);
    CHECK(IsDnsSafeBucket(row.bucket, row.https) == row.want);
  }
}

TEST_CASE("S3Url addresses buckets by path or by host name") {
  struct Row {
    S3Settings s3;
    std::string key;
    QueryParams query;
    std::string want;
  };
  const Row rows[] = {
      {Settings("https://s3.us-east-1.amazonaws.com", "backups"),
       "a/b c",
       {},
       "https://backups.s3.us-east-1.amazonaws.com/a/b%20c"},
      {Settings("https://s3.us-east-1.amazonaws.com", "my.bucket"),
       "k",
       {},
       "https://s3.us-east-1.amazonaws.com/my.bucket/k"},
      {Settings("http://s3.amazonaws.com", "my.bucket"),
       "k",
       {},
       "http://my.bucket.s3.amazonaws.com/k"},
      {Settings("https://s3.amazonaws.com", "Old_Bucket"),
       "k",
       {},
       "https://s3.amazonaws.com/Old_Bucket/k"},
      {Settings("http://minio:9000", "backups"),
       "team/mysql-backup",
       {},
       "http://minio:9000/backups/team/mysql-backup"},
      {Settings("http://minio:9000", "backups", S3Addressing::kVirtual),
       "k",
       {},
       "http://backups.minio:9000/k"},
      {Settings("https://s3.eu-west-1.amazonaws.com", "backups", S3Addressing::kPath),
       "k",
       {},
       "https://s3.eu-west-1.amazonaws.com/backups/k"},
      {Settings("http://127.0.0.1:9000", "backups"),
       "",
       {{"prefix", "p/"}, {"list-type", "2"}},
       "http://127.0.0.1:9000/backups?list-type=2&prefix=p%2F"},
      {Settings("https://s3.amazonaws.com", "backups"),
       "",
       {{"list-type", "2"}},
       "https://backups.s3.amazonaws.com/?list-type=2"},
      {Settings("http://host:8080/s3", "backups"),
       "k",
       {{"uploads", ""}},
       "http://host:8080/s3/backups/k?uploads="},
      {Settings("http://[::1]:9000", "backups"), "k", {}, "http://[::1]:9000/backups/k"},
  };
  for (const Row& row : rows) {
    INFO(row.want);
    CHECK(S3Url(row.s3, row.key, row.query) == row.want);
  }
}

TEST_CASE("S3Request signs with the region and carries S3's own headers") {
  struct Row {
    std::string body;
    std::string token;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> want_headers;
  };
  const Row rows[] = {
      {"", "", "", {{"x-amz-content-sha256", kEmptySha256}}},
      {"abc",
       "",
       "application/octet-stream",
       {{"x-amz-content-sha256",
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"Content-Type", "application/octet-stream"}}},
      {"",
       "FQoGZXIvYXdz",
       "",
       {{"x-amz-content-sha256", kEmptySha256}, {"x-amz-security-token", "FQoGZXIvYXdz"}}},
  };
  for (const Row& row : rows) {
    INFO(row.body << row.token << row.content_type);
    S3Settings s3 = Settings("http://minio:9000", "backups");
    s3.region = "eu-west-1";
    s3.session_token = row.token;
    Result<http::Request> r =
        S3Request(s3, "PUT", "a/b", {{"partNumber", "1"}}, row.body, row.content_type);
    REQUIRE(r.ok());
    CHECK(r->method == "PUT");
    CHECK(r->url == "http://minio:9000/backups/a/b?partNumber=1");
    CHECK(r->body == row.body);
    CHECK(r->headers == row.want_headers);
    CHECK(r->aws.provider == "aws:amz:eu-west-1:s3");
    CHECK(r->aws.access_key == "AKID");
    CHECK(r->aws.secret_key == "secret");
  }
}

TEST_CASE("Object data is hashed into the signature over http, not over https") {
  CHECK(SignsPayload(Settings("http://minio:9000", "b")));
  CHECK_FALSE(SignsPayload(Settings("https://s3.us-east-1.amazonaws.com", "b")));
  Result<http::Request> r =
      S3Request(Settings("https://s3.amazonaws.com", "b"), "PUT", "k", {}, "data", "", false);
  REQUIRE(r.ok());
  CHECK(r->headers == std::vector<std::pair<std::string, std::string>>{
                          {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}});
  CHECK(r->body == "data");
}

TEST_CASE("Part sizes grow so that 10,000 parts hold more than S3's largest object") {
  struct Row {
    int part;
    uint64_t want;
  };
  const Row rows[] = {{1, 8 * kMiB},     {1000, 8 * kMiB}, {1001, 16 * kMiB}, {2000, 16 * kMiB},
                      {2001, 32 * kMiB}, {8001, 2 * kGiB}, {9001, 4 * kGiB},  {10000, 4 * kGiB}};
  for (const Row& row : rows) {
    INFO(row.part);
    CHECK(PartSize(row.part) == row.want);
  }
  CHECK(BytesInParts(0) == 0);
  CHECK(BytesInParts(1) == 8 * kMiB);
  CHECK(BytesInParts(1000) == 8000 * kMiB);
  CHECK(BytesInParts(1001) == 8016 * kMiB);
  CHECK(BytesInParts(kMaxParts) > 5 * kTiB);
  uint64_t before = 0;
  for (int n = 1; n <= kMaxParts; ++n) {
    INFO(n);
    // S3's limits: 5 MiB to 5 GiB a part.
    REQUIRE(PartSize(n) >= 5 * kMiB);
    REQUIRE(PartSize(n) <= 5 * kGiB);
    // The memory bound stated in the header: one part, at most 8 MiB or 1/500
    // of what was uploaded before it.
    REQUIRE((PartSize(n) == 8 * kMiB || PartSize(n) * 500 <= before));
    before += PartSize(n);
    REQUIRE(BytesInParts(n) == before);
  }
}

TEST_CASE("ParseS3Error reads the Code and Message of an <Error>") {
  struct Row {
    std::string body;
    bool is_error;
    std::string code, message;
  };
  const Row rows[] = {
      {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
       "resource you requested does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource>"
       "<RequestId>4442587FB7D0A2F9</RequestId></Error>",
       true, "NoSuchKey", "The resource you requested does not exist"},
      {"<Error><Code>SlowDown</Code></Error>", true, "SlowDown", ""},
      {"", false, "", ""},
      {"<html><body>Bad Gateway</body></html>", false, "", ""},
      {"<Error><Code>x</Code>", false, "", ""},
  };
  for (const Row& row : rows) {
    INFO(row.body);
    auto error = ParseS3Error(row.body);
    REQUIRE(error.has_value() == row.is_error);
    if (error) {
      CHECK(error->code == row.code);
      CHECK(error->message == row.message);
    }
  }
}

TEST_CASE("ParseUploadId reads InitiateMultipartUploadResult") {
  Result<std::string> id = ParseUploadId(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>example-bucket</Bucket>"
      "<Key>example-object</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9h"
      "ZA</UploadId></InitiateMultipartUploadResult>");
  REQUIRE(id.ok());
  CHECK(*id == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
  for (const char* bad :
       {"",
        "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
        "</InitiateMultipartUploadResult>",
        "<Other><UploadId>x</UploadId></Other>", "<InitiateMultipartUploadResult>"}) {
    INFO(bad);
    CHECK_FALSE(ParseUploadId(bad).ok());
  }
}

TEST_CASE("CompleteMultipartBody lists every part in order with its ETag") {
  CHECK(CompleteMultipartBody({"\"a54357aff0632cce46d942af68356b38\"", "\"0c78aef8\""}) ==
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;"
        "a54357aff0632cce46d942af68356b38&quot;</ETag></Part><Part><PartNumber>2</PartNumber>"
        "<ETag>&quot;0c78aef8&quot;</ETag></Part></CompleteMultipartUpload>");
}

TEST_CASE("ParseListObjectsV2 reads objects and the continuation token") {
  const std::string truncated =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>bucket</Name><Prefix>team/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
      "<IsTruncated>true</IsTruncated>"
      "<Contents><Key>team/a</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
      "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
      "<StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>team/b&amp;c</Key><LastModified>2026-01-02T03:04:05Z</LastModified>"
      "<ETag>&quot;x-2&quot;</ETag><Size>0</Size></Contents>"
      "<CommonPrefixes><Prefix>team/sub/</Prefix></CommonPrefixes>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "</ListBucketResult>";
  Result<ListPage> page = ParseListObjectsV2(truncated);
  REQUIRE(page.ok());
  CHECK(page->truncated);
  CHECK(page->next_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  REQUIRE(page->objects.size() == 2);
  CHECK(page->objects[0].name == "team/a");
  CHECK(page->objects[0].size == 434234);
  CHECK(page->objects[0].etag == "\"fba9dede5f27731c9771645a39863328\"");
  CHECK(page->objects[0].mtime == At(2009, 10, 12, 17, 50, 30));
  CHECK(page->objects[1].name == "team/b&c");
  CHECK(page->objects[1].size == 0);
  CHECK(page->objects[1].mtime == At(2026, 1, 2, 3, 4, 5));

  Result<ListPage> last =
      ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  REQUIRE(last.ok());
  CHECK_FALSE(last->truncated);
  CHECK(last->objects.empty());

  const char* bad[] = {
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
      "<ListBucketResult></ListBucketResult>",
      "<ListAllMyBucketsResult><IsTruncated>false</IsTruncated></ListAllMyBucketsResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>-1</Size>"
      "<LastModified>2026-01-02T03:04:05Z</LastModified></Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
      "<LastModified>yesterday</LastModified></Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Size>1</Size>"
      "<LastModified>2026-01-02T03:04:05Z</LastModified></Contents></ListBucketResult>",
      "<ListBucketResult>",
  };
  for (const char* body : bad) {
    INFO(body);
    CHECK_FALSE(ParseListObjectsV2(body).ok());
  }
}

TEST_CASE("ObjectInfoFromHeaders reads HEAD's size, ETag and time") {
  Result<ObjectInfo> info =
      ObjectInfoFromHeaders("snap", {{"content-length", "1048576"},
                                     {"etag", "\"abc-3\""},
                                     {"last-modified", "Wed, 12 Oct 2009 17:50:30 GMT"}});
  REQUIRE(info.ok());
  CHECK(info->name == "snap");
  CHECK(info->size == 1048576);
  CHECK(info->etag == "\"abc-3\"");
  CHECK(info->mtime == At(2009, 10, 12, 17, 50, 30));
  CHECK_FALSE(ObjectInfoFromHeaders("snap", {{"etag", "x"}}).ok());
  CHECK_FALSE(ObjectInfoFromHeaders("snap", {{"content-length", "12a"}}).ok());
  CHECK_FALSE(
      ObjectInfoFromHeaders("snap", {{"content-length", "1"}, {"last-modified", "soon"}}).ok());
}

TEST_CASE("Timestamps of S3's XML and HTTP headers") {
  CHECK(ParseIso8601("2009-10-12T17:50:30.000Z") == At(2009, 10, 12, 17, 50, 30));
  CHECK(ParseIso8601("2009-10-12T17:50:30.5Z") ==
        At(2009, 10, 12, 17, 50, 30) + chr::milliseconds{500});
  CHECK(ParseIso8601("2024-02-29T00:00:00Z") == At(2024, 2, 29, 0, 0, 0));
  CHECK(ParseHttpDate("Fri, 24 May 2013 00:00:00 GMT") == At(2013, 5, 24, 0, 0, 0));
  for (const char* bad :
       {"", "2009-10-12", "2009-10-12T17:50:30", "2023-02-29T00:00:00Z", "2009-13-12T17:50:30Z",
        "2009-10-12T25:50:30Z", "2009-10-12T17:50:30.Z", "2009-10-12T17:50:30+01:00"}) {
    INFO(bad);
    CHECK_FALSE(ParseIso8601(bad).has_value());
  }
  for (const char* bad : {"", "Fri, 24 Foo 2013 00:00:00 GMT", "Fri, 24 May 2013 00:00:00 UTC",
                          "Friday, 24-May-13 00:00:00 GMT", "Fri, 32 May 2013 00:00:00 GMT"}) {
    INFO(bad);
    CHECK_FALSE(ParseHttpDate(bad).has_value());
  }
}

TEST_CASE("S3AnswerStatus maps each answer to what the caller should do") {
  auto error = [](const std::string& code, const std::string& message = "m") {
    return "<Error><Code>" + code + "</Code><Message>" + message + "</Message></Error>";
  };
  struct Row {
    long status;
    std::string body;
    Code want;
    std::vector<std::string> mentions;
  };
  const Row rows[] = {
      {200, "", Code::kOk, {}},
      {204, "", Code::kOk, {}},
      {200,
       "<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>",
       Code::kOk,
       {}},
      // CompleteMultipartUpload can fail after its 200 status line.
      {200,
       error("InternalError", "We encountered an internal error."),
       Code::kUnavailable,
       {"HTTP 200 InternalError", "internal error"}},
      {500, error("InternalError"), Code::kUnavailable, {"HTTP 500"}},
      {503,
       error("SlowDown", "Please reduce your request rate."),
       Code::kUnavailable,
       {"SlowDown", "reduce"}},
      {502, "<html>Bad Gateway</html>", Code::kUnavailable, {"HTTP 502"}},
      {429, "", Code::kUnavailable, {"HTTP 429"}},
      {408, "", Code::kUnavailable, {"HTTP 408"}},
      {400, error("RequestTimeout"), Code::kUnavailable, {"RequestTimeout"}},
      {403,
       error("SignatureDoesNotMatch"),
       Code::kFailedPrecondition,
       {"SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"}},
      {403, error("InvalidAccessKeyId"), Code::kFailedPrecondition, {"AWS_ACCESS_KEY_ID"}},
      {403,
       error("AccessDenied"),
       Code::kFailedPrecondition,
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "bucket 'backups'"}},
      {403, "", Code::kFailedPrecondition, {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}},
      {400,
       error("ExpiredToken"),
       Code::kFailedPrecondition,
       {"ExpiredToken", "AWS_SESSION_TOKEN"}},
      {403, error("ExpiredToken"), Code::kFailedPrecondition, {"AWS_SESSION_TOKEN"}},
      {403, error("RequestTimeTooSkewed"), Code::kFailedPrecondition, {"clock"}},
      {404, error("NoSuchBucket"), Code::kFailedPrecondition, {"bucket 'backups'", "AWS_BUCKET"}},
      {404, error("NoSuchKey"), Code::kNotFound, {"NoSuchKey"}},
      {404, "", Code::kNotFound, {"HTTP 404"}},
      {404, error("NoSuchUpload"), Code::kFailedPrecondition, {"aborted"}},
      {400, error("AuthorizationHeaderMalformed"), Code::kFailedPrecondition, {"AWS_REGION"}},
      {301, error("PermanentRedirect"), Code::kFailedPrecondition, {"AWS_REGION"}},
      {412, error("PreconditionFailed"), Code::kFailedPrecondition, {"changed"}},
      {400, error("EntityTooSmall"), Code::kInternal, {"EntityTooSmall"}},
      {400, error("InvalidArgument", std::string(1000, 'x')), Code::kInternal, {"xxx..."}},
  };
  for (const Row& row : rows) {
    INFO(row.status << " " << row.body);
    Status st = S3AnswerStatus("PUT s3://backups/k", "backups", row.status, row.body);
    CHECK(st.code() == row.want);
    if (!st.ok()) CHECK(st.message().starts_with("PUT s3://backups/k: "));
    for (const std::string& m : row.mentions) CHECK(Contains(st.message(), m));
    CHECK(st.message().size() < 700);
  }
}

}  // namespace
}  // namespace manage::storage
