#include "storage/s3_request.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "storage/sha256.h"
#include "storage/xml.h"

namespace manage::storage {
namespace {

namespace chr = std::chrono;

constexpr size_t kMaxMessageBytes = 300;
constexpr char kUnsigned[] = "UNSIGNED-PAYLOAD";
constexpr int kPartsPerStep = 1000;

struct Endpoint {
  std::string scheme;     // "https://"
  std::string authority;  // "host[:port]"
  std::string path;       // "" or "/base"
};

Endpoint SplitEndpoint(std::string_view endpoint) {
  Endpoint e;
  const size_t scheme_end = endpoint.find("://");
  size_t rest = 0;
  if (scheme_end != std::string_view::npos) {
    e.scheme = std::string(endpoint.substr(0, scheme_end + 3));
    rest = scheme_end + 3;
  }
  const size_t slash = endpoint.find('/', rest);
  e.authority = std::string(endpoint.substr(rest, slash - rest));
  if (slash != std::string_view::npos) e.path = std::string(endpoint.substr(slash));
  while (!e.path.empty() && e.path.back() == '/') e.path.pop_back();
  return e;
}

std::string HostOf(const std::string& authority) {
  if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

bool IsDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Digits of `s` at [at, at+n) as a number; -1 when they are not all digits.
int Number(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size() || !IsDigits(s.substr(at, n))) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

std::optional<chr::system_clock::time_point> MakeTime(int y, int mo, int d, int h, int mi, int s) {
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    return std::nullopt;
  }
  const chr::year_month_day date{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                                 chr::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  return chr::sys_days{date} + chr::hours{h} + chr::minutes{mi} + chr::seconds{s};
}

std::string Shorten(std::string s) {
  if (s.size() > kMaxMessageBytes) s = s.substr(0, kMaxMessageBytes) + "...";
  return s;
}

bool OneOf(std::string_view code, std::initializer_list<std::string_view> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// Why a 403 happened, in terms of the variables that set the credentials.
std::string ForbiddenHint(std::string_view code, std::string_view bucket) {
  if (code == "InvalidAccessKeyId") {
    return "the store does not know AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY, MINIO_ACCESS_KEY)";
  }
  if (code == "SignatureDoesNotMatch") {
    return "AWS_SECRET_ACCESS_KEY (or MINIO_SECRET_KEY) is not the secret of AWS_ACCESS_KEY_ID";
  }
  if (OneOf(code, {"ExpiredToken", "InvalidToken", "TokenRefreshRequired"})) {
    return "AWS_SESSION_TOKEN is expired or invalid";
  }
  if (code == "RequestTimeTooSkewed") return "this host's clock is wrong";
  return "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that the key may read, write, "
         "list and delete objects in bucket '" +
         std::string(bucket) + "'";
}

}  // namespace

std::string AwsUriEncode(std::string_view s, bool keep_slash) {
  return http::UrlEncode(s, keep_slash);
}

std::string CanonicalQuery(const QueryParams& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(AwsUriEncode(name, false), AwsUriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

bool IsDnsSafeBucket(std::string_view bucket, bool https) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
  for (char c : bucket) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  if (bucket.find("..") != std::string_view::npos) return false;
  return !(https && bucket.find('.') != std::string_view::npos);
}

bool UsesVirtualHost(const S3Settings& s3) {
  switch (s3.addressing) {
    case S3Addressing::kPath:
      return false;
    case S3Addressing::kVirtual:
      return true;
    case S3Addressing::kAuto:
      break;
  }
  const Endpoint e = SplitEndpoint(s3.endpoint);
  const std::string host = HostOf(e.authority);
  const bool aws = host == "amazonaws.com" || host.ends_with(".amazonaws.com");
  return aws && IsDnsSafeBucket(s3.bucket, e.scheme == "https://");
}

std::string S3Url(const S3Settings& s3, std::string_view key, const QueryParams& query) {
  const Endpoint e = SplitEndpoint(s3.endpoint);
  std::string url = e.scheme;
  std::string path = e.path;
  if (UsesVirtualHost(s3)) {
    url += s3.bucket + "." + e.authority;
    path += "/" + AwsUriEncode(key, true);
  } else {
    url += e.authority;
    path += "/" + AwsUriEncode(s3.bucket, false);
    if (!key.empty()) path += "/" + AwsUriEncode(key, true);
  }
  url += path;
  if (!query.empty()) url += "?" + CanonicalQuery(query);
  return url;
}

Result<http::Request> S3Request(const S3Settings& s3, std::string method, std::string_view key,
                                const QueryParams& query, std::string body,
                                std::string_view content_type, bool sign_payload) {
  Result<std::string> hash = sign_payload ? Sha256Hex(body) : Result<std::string>(kUnsigned);
  if (!hash.ok()) return hash.status();
  http::Request request;
  request.method = std::move(method);
  request.url = S3Url(s3, key, query);
  request.headers.emplace_back("x-amz-content-sha256", *hash);
  if (!s3.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", s3.session_token);
  }
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  request.body = std::move(body);
  request.aws = {"aws:amz:" + s3.region + ":s3", s3.access_key, s3.secret_key};
  return request;
}

bool SignsPayload(const S3Settings& s3) { return !s3.endpoint.starts_with("https://"); }

uint64_t PartSize(int part_number) {
  const int step = std::clamp(part_number - 1, 0, kMaxParts - 1) / kPartsPerStep;
  return kFirstPartBytes << step;
}

uint64_t BytesInParts(int parts) {
  uint64_t total = 0;
  for (int step = 0; parts > 0; ++step, parts -= kPartsPerStep) {
    total += static_cast<uint64_t>(std::min(parts, kPartsPerStep)) * (kFirstPartBytes << step);
  }
  return total;
}

std::optional<S3Error> ParseS3Error(std::string_view body) {
  Result<XmlElement> doc = ParseXml(body);
  if (!doc.ok() || doc->name != "Error") return std::nullopt;
  return S3Error{doc->ChildText("Code"), doc->ChildText("Message")};
}

Result<std::string> ParseUploadId(std::string_view body) {
  Result<XmlElement> doc = ParseXml(body);
  if (!doc.ok()) return doc.status().Annotate("CreateMultipartUpload answer");
  const std::string id = doc->ChildText("UploadId");
  if (doc->name != "InitiateMultipartUploadResult" || id.empty()) {
    return Status::Internal("CreateMultipartUpload answer has no UploadId");
  }
  return id;
}

std::string CompleteMultipartBody(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(etags[i]) + "</ETag></Part>";
  }
  return out + "</CompleteMultipartUpload>";
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  Result<XmlElement> doc = ParseXml(body);
  if (!doc.ok()) return doc.status().Annotate("ListObjectsV2 answer");
  if (doc->name != "ListBucketResult") {
    return Status::Internal("ListObjectsV2 answer is <" + doc->name + ">, not <ListBucketResult>");
  }
  ListPage page;
  const std::string truncated = doc->ChildText("IsTruncated");
  if (truncated != "true" && truncated != "false") {
    return Status::Internal("ListObjectsV2 answer: IsTruncated is '" + truncated + "'");
  }
  page.truncated = truncated == "true";
  page.next_token = doc->ChildText("NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    return Status::Internal("ListObjectsV2 answer is truncated without NextContinuationToken");
  }
  for (const XmlElement& c : doc->children) {
    if (c.name != "Contents") continue;
    ObjectInfo info;
    info.name = c.ChildText("Key");
    const std::string size = c.ChildText("Size");
    if (info.name.empty() || !IsDigits(size) || size.size() > 19) {
      return Status::Internal("ListObjectsV2 answer: an entry without a Key or a Size");
    }
    info.size = std::stoull(size);
    info.etag = c.ChildText("ETag");
    auto mtime = ParseIso8601(c.ChildText("LastModified"));
    if (!mtime) return Status::Internal("ListObjectsV2 answer: bad LastModified of " + info.name);
    info.mtime = *mtime;
    page.objects.push_back(std::move(info));
  }
  return page;
}

Result<ObjectInfo> ObjectInfoFromHeaders(std::string name,
                                         const std::map<std::string, std::string>& headers) {
  ObjectInfo info;
  info.name = std::move(name);
  auto length = headers.find("content-length");
  if (length == headers.end() || !IsDigits(length->second) || length->second.size() > 19) {
    return Status::Internal("answer about " + info.name + " has no Content-Length");
  }
  info.size = std::stoull(length->second);
  if (auto etag = headers.find("etag"); etag != headers.end()) info.etag = etag->second;
  if (auto modified = headers.find("last-modified"); modified != headers.end()) {
    auto mtime = ParseHttpDate(modified->second);
    if (!mtime) return Status::Internal("bad Last-Modified of " + info.name);
    info.mtime = *mtime;
  }
  return info;
}

std::optional<chr::system_clock::time_point> ParseIso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s.back() != 'Z') {
    return std::nullopt;
  }
  const std::string_view fraction = s.substr(19, s.size() - 20);
  if (!fraction.empty() && (fraction[0] != '.' || !IsDigits(fraction.substr(1)))) {
    return std::nullopt;
  }
  auto t = MakeTime(Number(s, 0, 4), Number(s, 5, 2), Number(s, 8, 2), Number(s, 11, 2),
                    Number(s, 14, 2), Number(s, 17, 2));
  if (!t || fraction.size() < 2) return t;
  int millis = Number(fraction, 1, std::min<size_t>(3, fraction.size() - 1));
  for (size_t digits = fraction.size() - 1; digits < 3; ++digits) millis *= 10;
  return *t + chr::milliseconds{millis};
}

std::optional<chr::system_clock::time_point> ParseHttpDate(std::string_view s) {
  // Wed, 12 Oct 2009 17:50:30 GMT
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  auto month = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (month == kMonths.end()) return std::nullopt;
  return MakeTime(Number(s, 12, 4), static_cast<int>(month - kMonths.begin()) + 1, Number(s, 5, 2),
                  Number(s, 17, 2), Number(s, 20, 2), Number(s, 23, 2));
}

Status S3AnswerStatus(std::string_view what, std::string_view bucket, long http_status,
                      std::string_view body) {
  const std::optional<S3Error> error = ParseS3Error(body);
  if (http_status >= 200 && http_status < 300 && !error) return Status::Ok();
  const std::string code = error ? error->code : "";
  std::string msg = std::string(what) + ": HTTP " + std::to_string(http_status);
  if (!code.empty()) msg += " " + code;
  if (error && !error->message.empty()) msg += ": " + Shorten(error->message);
  if (http_status >= 500 || http_status == 429 || http_status == 408 ||
      OneOf(code, {"RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable"})) {
    return Status::Unavailable(msg);
  }
  if (code == "NoSuchBucket") {
    return Status::FailedPrecondition(msg + " (bucket '" + std::string(bucket) +
                                      "' does not exist: AWS_BUCKET or MINIO_BUCKET)");
  }
  if (code == "NoSuchKey" || (http_status == 404 && code.empty())) return Status::NotFound(msg);
  if (http_status == 403 ||
      OneOf(code, {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken",
                   "InvalidToken", "TokenRefreshRequired", "RequestTimeTooSkewed"})) {
    return Status::FailedPrecondition(msg + " (" + ForbiddenHint(code, bucket) + ")");
  }
  if (http_status == 301 ||
      OneOf(code, {"AuthorizationHeaderMalformed", "PermanentRedirect", "IncorrectEndpoint"})) {
    return Status::FailedPrecondition(msg + " (bucket '" + std::string(bucket) +
                                      "' is in another region than AWS_REGION, or "
                                      "AWS_ENDPOINT_URL is wrong)");
  }
  if (code == "NoSuchUpload") {
    return Status::FailedPrecondition(msg + " (the multipart upload was aborted meanwhile)");
  }
  if (http_status == 412) {
    return Status::FailedPrecondition(msg + " (the object changed while it was read)");
  }
  return Status::Internal(msg);
}

}  // namespace manage::storage
