// S3 requests and answers as pure functions: where a bucket/key lives
// (path-style or virtual-hosted), AWS's URI encoding and canonical query
// strings (libcurl signs the query as written: storage/../http/transport.h),
// the headers each request carries, the part sizes of a multipart upload, the
// XML answers, and the Status each HTTP answer means. No I/O; table-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/transport.h"
#include "storage/object_store.h"
#include "storage/settings.h"

namespace manage::storage {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// AWS's URI encoding: every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper-case
// hex); '/' kept when `keep_slash` (object keys in paths).
std::string AwsUriEncode(std::string_view s, bool keep_slash);

// The query as SigV4 wants it signed: each name and value AWS-encoded, sorted
// by encoded name then value, "name=" for an empty value, joined with '&'.
std::string CanonicalQuery(const QueryParams& params);

// Whether `bucket` can be a DNS label of a virtual-hosted URL: 3-63 of
// a-z 0-9 . -, starting and ending with a letter or digit, and no '.' over
// https (a dotted name would not match the wildcard certificate).
bool IsDnsSafeBucket(std::string_view bucket, bool https);

// Whether requests put the bucket in the host name: kVirtual always, kPath
// never, kAuto for *.amazonaws.com endpoints and DNS-safe buckets.
bool UsesVirtualHost(const S3Settings& s3);

// The URL of `key` in the bucket ("" for the bucket itself) with `query` in
// canonical form.
std::string S3Url(const S3Settings& s3, std::string_view key, const QueryParams& query = {});

// A signed request (libcurl's SigV4 with the settings' credentials) with the
// headers S3 needs: x-amz-content-sha256 (hex SHA-256 of `body`, or
// UNSIGNED-PAYLOAD unless `sign_payload`), x-amz-security-token with temporary
// credentials, Content-Type when given.
Result<http::Request> S3Request(const S3Settings& s3, std::string method, std::string_view key,
                                const QueryParams& query = {}, std::string body = "",
                                std::string_view content_type = "", bool sign_payload = true);

// Whether object data (a PUT's or a part's body) is hashed into the signature.
// Over http it is: nothing else protects it in transit. Over https TLS does,
// and it is sent as UNSIGNED-PAYLOAD, as AWS's SDKs send streamed uploads: one
// SHA-256 pass less over the whole stream (0.5 s of CPU per GB with SHA-NI).
bool SignsPayload(const S3Settings& s3);

// Multipart part sizes. Part n (1-based) holds 8 MiB x 2^floor((n-1)/1000):
// parts 1-1000 are 8 MiB, 1001-2000 16 MiB, ..., 9001-10000 4 GiB, so the
// 10,000 parts S3 allows hold 7.8 TiB (more than S3's 5 TiB object limit).
// An upload buffers one part, so its memory is 8 MiB for streams up to
// 7.8 GiB and never more than 1/500 of the bytes already uploaded beyond that
// (16 MiB from 7.8 GiB on, 128 MiB from 117 GiB, 1 GiB from 992 GiB, 4 GiB
// from 3.9 TiB).
inline constexpr int kMaxParts = 10000;
inline constexpr uint64_t kFirstPartBytes = uint64_t{8} << 20;
uint64_t PartSize(int part_number);
// What parts 1..`parts` hold together.
uint64_t BytesInParts(int parts);

// The Code and Message of an <Error> document; nullopt when `body` is not one.
struct S3Error {
  std::string code;
  std::string message;
};
std::optional<S3Error> ParseS3Error(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
Result<std::string> ParseUploadId(std::string_view body);

// A CompleteMultipartUpload request body for parts 1..etags.size().
std::string CompleteMultipartBody(const std::vector<std::string>& etags);

// One page of ListObjectsV2. Object names are the full keys.
struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken when truncated
};
Result<ListPage> ParseListObjectsV2(std::string_view body);

// An object's metadata from the headers of a HEAD (or GET) answer.
Result<ObjectInfo> ObjectInfoFromHeaders(std::string name,
                                         const std::map<std::string, std::string>& headers);

// "2009-10-12T17:50:30.000Z" and "Wed, 12 Oct 2009 17:50:30 GMT" (RFC 1123);
// nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s);
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view s);

// What an S3 answer means. `what` names the request for messages ("PUT
// s3://bucket/key"), `bucket` the bucket. 2xx (without an <Error> body): OK;
// 5xx, 429, 408 and RequestTimeout, SlowDown: Unavailable (retried); 403:
// FailedPrecondition naming AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN or the key's permissions; NoSuchBucket: FailedPrecondition
// naming the bucket; NoSuchKey (or a 404 without a body): NotFound; a wrong
// region: FailedPrecondition naming AWS_REGION; anything else: Internal.
Status S3AnswerStatus(std::string_view what, std::string_view bucket, long http_status,
                      std::string_view body);

}  // namespace manage::storage
