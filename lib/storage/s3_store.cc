#include "storage/s3_store.h"

#include <algorithm>
#include <utility>

#include "storage/retry.h"
#include "storage/s3_request.h"

namespace manage::storage {
namespace {

constexpr char kOctetStream[] = "application/octet-stream";

void ForTransfer(http::Request& request) {
  request.timeout = std::chrono::milliseconds{0};
  request.stall_timeout = S3Store::kStallTimeout;
}

void ForSmallRequest(http::Request& request) {
  request.timeout = S3Store::kRequestTimeout;
  request.stall_timeout = S3Store::kStallTimeout;
}

// Whether a GET that S3 answered with 2xx delivered what it should: the rest
// of the object (Unavailable when it ended early, so the read resumes), and
// with 206 when it was asked for a Range.
Status CheckReadAnswer(const std::string& what, bool resumed, long status, uint64_t delivered,
                       uint64_t size) {
  if (resumed && status != 206) {
    return Status::Internal(what + ": the store ignored the Range of a resumed read");
  }
  if (delivered < size) {
    return Status::Unavailable(what + ": the answer ended after " + std::to_string(delivered) +
                               " of " + std::to_string(size) + " bytes");
  }
  if (delivered > size) {
    return Status::Internal(what + ": got more bytes than the object's " + std::to_string(size));
  }
  return Status::Ok();
}

}  // namespace

// One object being written: the current part in memory, the parts already
// uploaded (their ETags) and the multipart upload they belong to, created
// when the first part is full. Who sees what: until Complete succeeds the
// object does not exist for any reader; an upload this process never
// completes or aborts (it died) is invisible too and is removed by the
// bucket's lifecycle rule for incomplete uploads, if one is set.
class S3Writer final : public ObjectWriter {
 public:
  S3Writer(S3Store& store, std::string name)
      : store_(store), name_(std::move(name)), key_(store.Key(name_)) {
    buffer_.reserve(PartSize(1));
  }
  ~S3Writer() override { Abort(); }

  Status Write(std::string_view data) override {
    if (done_) return Status::FailedPrecondition(store_.What("PUT", key_) + ": upload ended");
    if (store_.context_.cancel != nullptr && store_.context_.cancel->load()) {
      Abort();
      return Status::Aborted(store_.What("PUT", key_) + ": cancelled");
    }
    while (!data.empty()) {
      const uint64_t room = PartSize(part_) - buffer_.size();
      const size_t take = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      written_ += take;
      if (buffer_.size() < PartSize(part_)) break;
      Status st = UploadPart();
      if (!st.ok()) {
        Abort();
        return st;
      }
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (done_) return Status::FailedPrecondition(store_.What("PUT", key_) + ": upload ended");
    Status st = upload_id_.empty() ? PutWhole() : Complete();
    if (!st.ok()) {
      Abort();
      return st;
    }
    done_ = true;
    buffer_ = std::string();
    return Status::Ok();
  }

  // Aborts the multipart upload even when the cancel flag is raised, so no
  // parts are left behind to be paid for.
  void Abort() override {
    if (done_) return;
    done_ = true;
    buffer_ = std::string();
    if (upload_id_.empty()) return;
    Result<http::Request> request =
        S3Request(store_.s3_, "DELETE", key_, {{"uploadId", upload_id_}});
    if (!request.ok()) return;
    ForSmallRequest(*request);
    // Best effort: the bucket's lifecycle rule is the backstop.
    (void)store_.Exchange(*request, store_.What("DELETE (abort upload)", key_), false);
  }

 private:
  Status PutWhole() {
    Result<http::Request> request = S3Request(store_.s3_, "PUT", key_, {}, std::move(buffer_),
                                              kOctetStream, SignsPayload(store_.s3_));
    if (!request.ok()) return request.status();
    ForTransfer(*request);
    return store_.Exchange(*request, store_.What("PUT", key_)).status();
  }

  Status Start() {
    Result<http::Request> request = S3Request(store_.s3_, "POST", key_, {{"uploads", ""}});
    if (!request.ok()) return request.status();
    ForSmallRequest(*request);
    Result<http::Response> answer =
        store_.Exchange(*request, store_.What("POST (create upload)", key_));
    if (!answer.ok()) return answer.status();
    Result<std::string> id = ParseUploadId(answer->body);
    if (!id.ok()) return id.status();
    upload_id_ = *id;
    return Status::Ok();
  }

  // Uploads the buffer as part `part_`; the buffer is reused for the next one.
  Status UploadPart() {
    if (upload_id_.empty()) MANAGE_RETURN_IF_ERROR(Start());
    Result<http::Request> request = S3Request(
        store_.s3_, "PUT", key_, {{"partNumber", std::to_string(part_)}, {"uploadId", upload_id_}},
        std::move(buffer_), "", SignsPayload(store_.s3_));
    if (!request.ok()) return request.status();
    ForTransfer(*request);
    const std::string what = store_.What("PUT (part " + std::to_string(part_) + ")", key_);
    Result<http::Response> answer = store_.Exchange(*request, what);
    buffer_ = std::move(request->body);
    buffer_.clear();
    if (!answer.ok()) return answer.status();
    auto etag = answer->headers.find("etag");
    if (etag == answer->headers.end() || etag->second.empty()) {
      return Status::Internal(what + ": the answer has no ETag");
    }
    etags_.push_back(etag->second);
    if (part_ == kMaxParts) {
      return Status::FailedPrecondition(what + ": the object would need more than " +
                                        std::to_string(kMaxParts) + " parts");
    }
    ++part_;
    if (buffer_.capacity() < PartSize(part_)) buffer_.reserve(PartSize(part_));
    return Status::Ok();
  }

  Status Complete() {
    if (!buffer_.empty()) MANAGE_RETURN_IF_ERROR(UploadPart());
    Result<http::Request> request = S3Request(store_.s3_, "POST", key_, {{"uploadId", upload_id_}},
                                              CompleteMultipartBody(etags_), "application/xml");
    if (!request.ok()) return request.status();
    // S3 may take minutes to assemble a large object, sending white space
    // meanwhile: only a stall fails it.
    ForTransfer(*request);
    Status st = store_.Exchange(*request, store_.What("POST (complete upload)", key_)).status();
    if (st.code() == Code::kFailedPrecondition &&
        st.message().find(" NoSuchUpload") != std::string::npos && CompletedBefore()) {
      return Status::Ok();
    }
    return st;
  }

  // Whether an attempt whose answer was lost completed the upload (a retry
  // then finds it gone): the object has our size and a multipart ETag of as
  // many parts ("...-N").
  bool CompletedBefore() {
    Result<ObjectInfo> info = store_.Head(name_);
    const std::string suffix = "-" + std::to_string(etags_.size()) + "\"";
    return info.ok() && info->size == written_ && info->etag.ends_with(suffix);
  }

  S3Store& store_;
  const std::string name_;
  const std::string key_;
  uint64_t written_ = 0;
  std::string buffer_;
  int part_ = 1;  // the part being buffered
  std::vector<std::string> etags_;
  std::string upload_id_;
  bool done_ = false;
};

S3Store::S3Store(S3Settings s3, std::string prefix, http::HttpTransport* transport,
                 StoreContext context)
    : s3_(std::move(s3)),
      prefix_(prefix.empty() ? "" : prefix + "/"),
      transport_(transport),
      context_(std::move(context)) {}

S3Store::S3Store(S3Settings s3, std::string prefix, std::unique_ptr<http::HttpTransport> transport,
                 StoreContext context)
    : S3Store(std::move(s3), std::move(prefix), transport.get(), std::move(context)) {
  owned_ = std::move(transport);
}

S3Store::~S3Store() = default;

std::string S3Store::Key(const std::string& name) const { return prefix_ + name; }

std::string S3Store::What(const std::string& method, const std::string& key) const {
  return method + " s3://" + s3_.bucket + "/" + key;
}

std::string S3Store::Location() const { return "s3://" + s3_.bucket + "/" + prefix_; }

Result<http::Response> S3Store::Exchange(http::Request& request, const std::string& what,
                                         bool cancellable) {
  const std::atomic<bool>* cancel = cancellable ? context_.cancel : nullptr;
  request.cancel = cancel;
  http::Response answer;
  Status st = Retry(
      context_.retry, *context_.clock,
      [&]() -> Status {
        Result<http::Response> r = transport_->Send(request);
        if (!r.ok()) return r.status().Annotate(what);
        MANAGE_RETURN_IF_ERROR(S3AnswerStatus(what, s3_.bucket, r->status, r->body));
        answer = std::move(*r);
        return Status::Ok();
      },
      context_.on_retry, cancel);
  if (!st.ok()) return st;
  return answer;
}

Result<std::unique_ptr<ObjectWriter>> S3Store::Create(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  return std::unique_ptr<ObjectWriter>(new S3Writer(*this, name));
}

Result<ObjectInfo> S3Store::Head(const std::string& name) {
  Result<http::Request> request = S3Request(s3_, "HEAD", Key(name));
  if (!request.ok()) return request.status();
  ForSmallRequest(*request);
  Result<http::Response> answer = Exchange(*request, What("HEAD", Key(name)));
  if (!answer.ok()) return answer.status();
  return ObjectInfoFromHeaders(name, answer->headers);
}

Result<ObjectInfo> S3Store::Stat(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  return Head(name);
}

// Reads from where the last attempt stopped: each attempt after the first asks
// for the rest with a Range, and every attempt carries If-Match with the ETag
// HEAD reported, so an object replaced meanwhile fails (412) instead of
// splicing two objects' bytes.
Status S3Store::Read(const std::string& name, const sys::OutputSink& sink) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  Result<ObjectInfo> info = Head(name);
  if (!info.ok()) return info.status();
  const std::string key = Key(name);
  const std::string what = What("GET", key);
  uint64_t delivered = 0;
  Status sink_error;
  auto attempt = [&]() -> Status {
    if (delivered == info->size && delivered > 0) return Status::Ok();
    const uint64_t from = delivered;
    Result<http::Request> request = S3Request(s3_, "GET", key);
    if (!request.ok()) return request.status();
    ForTransfer(*request);
    request->cancel = context_.cancel;
    if (from > 0) request->headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-");
    if (!info->etag.empty()) request->headers.emplace_back("If-Match", info->etag);
    request->body_sink = [&](std::string_view chunk) {
      sink_error = sink(chunk);
      if (sink_error.ok()) delivered += chunk.size();
      return sink_error;
    };
    Result<http::Response> r = transport_->Send(*request);
    // The sink's own failure is final, whatever its code.
    if (!sink_error.ok()) return Status::Aborted("the reader stopped");
    if (!r.ok()) return r.status().Annotate(what);
    MANAGE_RETURN_IF_ERROR(S3AnswerStatus(what, s3_.bucket, r->status, r->body));
    return CheckReadAnswer(what, from > 0, r->status, delivered, info->size);
  };
  Status st = Retry(context_.retry, *context_.clock, attempt, context_.on_retry, context_.cancel);
  if (!sink_error.ok()) return sink_error;
  return st;
}

Result<std::vector<ObjectInfo>> S3Store::List(const std::string& prefix) {
  std::vector<ObjectInfo> objects;
  std::string token;
  for (;;) {
    QueryParams query = {{"list-type", "2"}, {"prefix", prefix_ + prefix}, {"delimiter", "/"}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    Result<http::Request> request = S3Request(s3_, "GET", "", query);
    if (!request.ok()) return request.status();
    ForSmallRequest(*request);
    Result<http::Response> answer = Exchange(*request, What("GET (list)", prefix_ + prefix));
    if (!answer.ok()) return answer.status();
    Result<ListPage> page = ParseListObjectsV2(answer->body);
    if (!page.ok()) return page.status();
    for (ObjectInfo& info : page->objects) {
      if (!info.name.starts_with(prefix_)) continue;
      info.name = info.name.substr(prefix_.size());
      if (ValidateObjectName(info.name).ok()) objects.push_back(std::move(info));
    }
    if (!page->truncated) break;
    if (page->next_token == token) {
      return Status::Internal(What("GET (list)", prefix_ + prefix) +
                              ": the continuation token did not change");
    }
    token = page->next_token;
  }
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return objects;
}

// S3 answers a DELETE of a missing key with 204: HEAD first, for NotFound.
Status S3Store::Remove(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  Result<ObjectInfo> info = Head(name);
  if (!info.ok()) return info.status();
  Result<http::Request> request = S3Request(s3_, "DELETE", Key(name));
  if (!request.ok()) return request.status();
  ForSmallRequest(*request);
  return Exchange(*request, What("DELETE", Key(name))).status();
}

}  // namespace manage::storage
