#include "storage/manta_store.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "storage/manta_protocol.h"

namespace manage::storage {
namespace {

using http::Request;
using http::Response;

constexpr uint64_t kMantaDefaultMax = uint64_t{5} << 30;

// Content-Length; 0 when absent or malformed.
uint64_t ParseSize(const Response& r) {
  auto it = r.headers.find("content-length");
  uint64_t size = 0;
  if (it != r.headers.end()) {
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), size);
  }
  return size;
}

std::string Header(const Response& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

class MantaWriter final : public ObjectWriter {
 public:
  MantaWriter(std::unique_ptr<http::UploadStream> upload, std::string what, uint64_t max_size,
              const std::atomic<bool>* cancel)
      : upload_(std::move(upload)), what_(std::move(what)), max_(max_size), cancel_(cancel) {}
  ~MantaWriter() override { Abort(); }

  Status Write(std::string_view data) override {
    if (done_) return Status::FailedPrecondition(what_ + ": the upload has ended");
    if (cancel_ != nullptr && cancel_->load()) return Fail(Status::Aborted(what_ + ": cancelled"));
    written_ += data.size();
    if (max_ > 0 && written_ > max_) {
      return Fail(Status::FailedPrecondition(
          what_ + ": the object is larger than MANTA_MAX_OBJECT_SIZE_GB allows"));
    }
    Status st = upload_->Write(data);
    if (st.ok()) return st;
    if (upload_->Answered()) {
      // Manta refused before the body ended (a signature, a quota, a size):
      // its answer says why, and a 4xx is not worth retrying.
      done_ = true;
      Result<Response> response = upload_->Finish();
      if (response.ok()) return manta::StatusOf(*response, what_);
    }
    if (max_ == 0 && written_ > kMantaDefaultMax) {
      st = st.Annotate(
          "Manta refuses streamed objects over 5 GiB unless "
          "MANTA_MAX_OBJECT_SIZE_GB is set");
    }
    return Fail(st);  // the transport's message names the request
  }

  Status Commit() override {
    if (done_) return Status::FailedPrecondition(what_ + ": the upload has ended");
    done_ = true;
    Result<Response> response = upload_->Finish();
    if (!response.ok()) return response.status();
    return manta::StatusOf(*response, what_);
  }

  // Closes the connection mid-body: Manta never records the object.
  void Abort() override {
    if (done_) return;
    done_ = true;
    upload_->Abort();
  }

 private:
  Status Fail(Status st) {
    Abort();
    return st;
  }

  std::unique_ptr<http::UploadStream> upload_;
  std::string what_;
  uint64_t max_;
  const std::atomic<bool>* cancel_;
  uint64_t written_ = 0;
  bool done_ = false;
};

}  // namespace

MantaStore::MantaStore(http::HttpTransport* transport, MantaSigner signer,
                       MantaStoreOptions options)
    : transport_(transport), signer_(std::move(signer)), options_(std::move(options)) {}

MantaStore::MantaStore(std::unique_ptr<http::HttpTransport> transport, MantaSigner signer,
                       MantaStoreOptions options)
    : MantaStore(transport.get(), std::move(signer), std::move(options)) {
  owned_ = std::move(transport);
}

Result<Request> MantaStore::Signed(const std::string& method, const std::string& path,
                                   bool streamed) const {
  Request request;
  request.method = method;
  request.url = options_.url + manta::EncodePath(path);
  auto headers = signer_.Headers(options_.clock->Now());
  if (!headers.ok()) return headers.status();
  request.headers = std::move(*headers);
  request.cancel = options_.cancel;
  request.timeout = streamed ? std::chrono::milliseconds(0) : options_.request_timeout;
  if (streamed) request.stall_timeout = options_.stall_timeout;
  return request;
}

Status MantaStore::Retried(const std::function<Status()>& attempt) {
  return Retry(options_.retry, *options_.clock, attempt, options_.on_retry, options_.cancel);
}

Result<Response> MantaStore::Exchange(const Request& request) { return transport_->Send(request); }

Result<Response> MantaStore::Head(const std::string& path) {
  auto request = Signed("HEAD", path, false);
  if (!request.ok()) return request.status();
  auto response = Exchange(*request);
  if (!response.ok()) return response;
  const long status = response->status;
  if (status < 400 || status >= 500 || status == 404 || status == 412 || !response->body.empty()) {
    return response;
  }
  auto get = Signed("GET", path, false);
  if (!get.ok()) return response;
  get->body_sink = [](std::string_view) { return Status::Aborted("only an explanation"); };
  auto explained = transport_->Send(*get);
  if (explained.ok() && explained->status == status) return explained;
  return response;
}

// HEAD the directory and its missing ancestors, deepest first, then PUT the
// missing ones from the top. The HEAD also checks the credentials: an upload
// refused only once it runs would say little more than its status code. Creating an existing
// directory is harmless, so a race with another node creating it is too.
Status MantaStore::EnsureDirectory() {
  if (directory_ready_) return Status::Ok();
  std::vector<std::string> candidates = manta::CreatableDirectories(options_.directory);
  // A top directory ("/acct/stor", MANTA_BUCKET's default) always exists: it
  // is still asked once, to prove the credentials before an upload starts.
  if (candidates.empty()) candidates.push_back(options_.directory);
  std::vector<std::string> missing;
  for (auto dir = candidates.rbegin(); dir != candidates.rend(); ++dir) {
    bool exists = false;
    const std::string what = "HEAD " + *dir;
    Status st = Retried([&]() -> Status {
      auto response = Head(*dir);
      if (!response.ok()) return response.status();
      Status answer = manta::StatusOf(*response, what);
      if (answer.code() == Code::kNotFound) return Status::Ok();
      if (answer.ok() && !manta::IsDirectory(*response)) {
        return Status::FailedPrecondition(*dir +
                                          " is an object, not a directory (check "
                                          "MANTA_BUCKET and SNAPSHOT_PREFIX)");
      }
      exists = answer.ok();
      return answer;
    });
    if (!st.ok()) return st;
    if (exists) break;
    missing.insert(missing.begin(), *dir);
  }
  for (const std::string& dir : missing) {
    const std::string what = "PUT " + dir;
    Status st = Retried([&]() -> Status {
      auto request = Signed("PUT", dir, false);
      if (!request.ok()) return request.status();
      request->headers.emplace_back("Content-Type", "application/json; type=directory");
      auto response = Exchange(*request);
      if (!response.ok()) return response.status();
      return manta::StatusOf(*response, what);
    });
    if (!st.ok()) return st;
  }
  directory_ready_ = true;
  return Status::Ok();
}

Result<std::unique_ptr<ObjectWriter>> MantaStore::Create(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  MANAGE_RETURN_IF_ERROR(EnsureDirectory());
  const std::string path = ObjectPath(name);
  auto request = Signed("PUT", path, true);
  if (!request.ok()) return request.status();
  request->headers.emplace_back("Content-Type", "application/octet-stream");
  if (options_.max_object_size > 0) {
    request->headers.emplace_back("Max-Content-Length", std::to_string(options_.max_object_size));
  }
  auto upload = transport_->StartUpload(*request);
  if (!upload.ok()) return upload.status().Annotate("PUT " + path);
  return std::unique_ptr<ObjectWriter>(new MantaWriter(std::move(*upload), "PUT " + path,
                                                       options_.max_object_size, options_.cancel));
}

Status MantaStore::GetRange(const std::string& path, const ObjectInfo& info, uint64_t* offset,
                            const sys::OutputSink& sink, Status* sink_status) {
  const std::string what = "GET " + path;
  auto request = Signed("GET", path, true);
  if (!request.ok()) return request.status();
  if (!info.etag.empty()) request->headers.emplace_back("If-Match", info.etag);
  const uint64_t from = *offset;
  if (from > 0) request->headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-");
  request->body_sink = [&](std::string_view chunk) -> Status {
    Status st = sink(chunk);
    if (!st.ok()) {
      *sink_status = st;
      return st;
    }
    *offset += chunk.size();
    return st;
  };
  auto response = Exchange(*request);
  if (!sink_status->ok()) return Status::Aborted("the reader stopped");
  if (!response.ok()) return response.status();
  if (from > 0 && response->status == 200) {
    return Status::Internal(what +
                            ": the server ignored the Range request; the read cannot "
                            "resume");
  }
  return manta::StatusOf(*response, what);
}

Status MantaStore::Read(const std::string& name, const sys::OutputSink& sink) {
  auto info = Stat(name);
  if (!info.ok()) return info.status();
  const std::string path = ObjectPath(name);
  uint64_t offset = 0;
  Status sink_status;
  for (int resumes = 0;; ++resumes) {
    bool progressed = false;
    Status interrupted;
    Status st = Retried([&]() -> Status {
      const uint64_t start = offset;
      Status got = GetRange(path, *info, &offset, sink, &sink_status);
      if (!got.ok() && IsTransient(got) && offset > start) {
        progressed = true;  // a fresh round of retries for the rest
        interrupted = got;
        return Status::Ok();
      }
      return got;
    });
    if (!sink_status.ok()) return sink_status;
    if (!st.ok()) return st;
    if (!progressed) break;
    if (resumes + 1 >= kMaxResumes) {
      return interrupted.Annotate("gave up after " + std::to_string(kMaxResumes) + " resumes");
    }
    if (options_.on_retry) options_.on_retry(interrupted, 1, std::chrono::milliseconds(0));
  }
  if (offset != info->size) {
    return Status::Internal("GET " + path + ": read " + std::to_string(offset) + " of " +
                            std::to_string(info->size) + " bytes");
  }
  return Status::Ok();
}

Result<ObjectInfo> MantaStore::Stat(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  const std::string path = ObjectPath(name);
  const std::string what = "HEAD " + path;
  ObjectInfo info;
  Status st = Retried([&]() -> Status {
    auto response = Head(path);
    if (!response.ok()) return response.status();
    MANAGE_RETURN_IF_ERROR(manta::StatusOf(*response, what));
    if (manta::IsDirectory(*response)) return Status::NotFound(path + " is a directory");
    info.name = name;
    info.size = ParseSize(*response);
    info.etag = Header(*response, "etag");
    auto mtime = manta::ParseHttpDate(Header(*response, "last-modified"));
    if (mtime) info.mtime = *mtime;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return info;
}

Result<std::vector<ObjectInfo>> MantaStore::List(const std::string& prefix) {
  const std::string& dir = options_.directory;
  const int limit = std::clamp(options_.list_page_size, 2, 1024);
  std::vector<ObjectInfo> objects;
  std::string marker;
  for (;;) {
    std::string query = "?limit=" + std::to_string(limit);
    if (!marker.empty()) query += "&marker=" + http::UrlEncode(marker);
    const std::string what = "GET " + dir;
    std::vector<manta::DirectoryEntry> page;
    bool missing = false;
    Status st = Retried([&]() -> Status {
      auto request = Signed("GET", dir, false);
      if (!request.ok()) return request.status();
      request->url += query;
      auto response = Exchange(*request);
      if (!response.ok()) return response.status();
      Status answer = manta::StatusOf(*response, what);
      if (answer.code() == Code::kNotFound) {
        missing = true;  // no directory yet: nothing was ever written
        return Status::Ok();
      }
      MANAGE_RETURN_IF_ERROR(answer);
      if (!manta::IsDirectory(*response)) {
        return Status::FailedPrecondition(dir + " is an object, not a directory");
      }
      auto parsed = manta::ParseDirectoryPage(response->body);
      if (!parsed.ok()) return parsed.status().Annotate(what);
      page = std::move(*parsed);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (missing) break;
    for (const manta::DirectoryEntry& e : page) {
      if (e.name == marker) continue;  // the marker is inclusive
      if (e.type != "object" || !e.name.starts_with(prefix) || !ValidateObjectName(e.name).ok()) {
        continue;
      }
      objects.push_back({e.name, e.size, e.mtime, e.etag});
    }
    if (static_cast<int>(page.size()) < limit || page.back().name == marker) break;
    marker = page.back().name;
  }
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return objects;
}

Status MantaStore::Remove(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  const std::string path = ObjectPath(name);
  const std::string what = "DELETE " + path;
  int attempts = 0;
  return Retried([&]() -> Status {
    ++attempts;
    auto request = Signed("DELETE", path, false);
    if (!request.ok()) return request.status();
    auto response = Exchange(*request);
    if (!response.ok()) return response.status();
    Status answer = manta::StatusOf(*response, what);
    // A retry that finds nothing: the lost first attempt deleted it.
    if (answer.code() == Code::kNotFound && attempts > 1) return Status::Ok();
    return answer;
  });
}

}  // namespace manage::storage
