#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "http/curl_api.h"
#include "http/transport.h"

namespace manage::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};
constexpr int kPollMs = 100;
// Streamed bodies move in 1 MiB pieces instead of libcurl's 16 KiB (download)
// and 64 KiB (upload): a sixty-fourth of the callbacks, and of the writes into
// mbstream's stdin on a restore.
constexpr long kStreamBufferBytes = 1024 * 1024;

// Strips user info, query and fragment so that messages never carry credentials.
std::string RedactUrl(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const size_t scheme_end = out.find("://");
  const size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t at = out.find('@', host_start);
  const size_t slash = out.find('/', host_start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    out.erase(host_start, at + 1 - host_start);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool HasHeader(const Request& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& header) {
    return std::equal(header.first.begin(), header.first.end(), name.begin(), name.end(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  });
}

bool SendsBody(const Request& request) {
  return !request.body.empty() || request.method == "PUT" || request.method == "POST" ||
         request.method == "PATCH";
}

// One transfer's state, shared by libcurl's callbacks. Owns the header list
// and the easy handle's borrowed pointers stay valid while it lives.
struct Transfer {
  Transfer(const CurlApi& a, const Request& r) : api(a), request(r) {}
  ~Transfer() {
    if (headers != nullptr) api.slist_free_all(headers);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  const CurlApi& api;
  const Request& request;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  Response response;
  Status sink_status;
  bool cancelled = false;
  bool stalled = false;
  curl_off_t moved = -1;  // bytes up + down at the last progress call
  Clock::time_point last_move = Clock::now();
  // Streamed uploads: what Write handed over and curl has not taken yet.
  std::string_view pending;
  bool eof = false;
  bool paused = false;
};

// The one place a CURLcode becomes a Status.
Status CurlStatus(CURLcode code, const Transfer& t) {
  if (code == CURLE_OK) return Status::Ok();
  if (code == CURLE_WRITE_ERROR && !t.sink_status.ok()) return t.sink_status;
  const Request& request = t.request;
  std::string msg = request.method + " " + RedactUrl(request.url) + ": ";
  if (code == CURLE_ABORTED_BY_CALLBACK && t.cancelled) return Status::Aborted(msg + "cancelled");
  if (code == CURLE_ABORTED_BY_CALLBACK && t.stalled) {
    return Status::DeadlineExceeded(msg + "no data moved for " +
                                    std::to_string(request.stall_timeout.count()) + " ms");
  }
  msg += t.errbuf[0] != '\0' ? t.errbuf : t.api.easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status::DeadlineExceeded(msg);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return Status::Unavailable(msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(msg);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
    case CURLE_ABORTED_BY_CALLBACK:
      return Status::Internal(msg);
    default:  // send/receive failures, empty replies, TLS handshake and verification
      return Status::Unavailable(msg);
  }
}

// Sets options on a handle, remembering the first failure.
class Options {
 public:
  Options(const CurlApi& api, CURL* handle) : api_(api), handle_(handle) {}
  template <typename T>
  void Set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) rc_ = api_.easy_setopt(handle_, option, value);
  }
  CURLcode rc() const { return rc_; }

 private:
  const CurlApi& api_;
  CURL* handle_;
  CURLcode rc_ = CURLE_OK;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view chunk(data, size * count);
  long status = 0;
  if (t->request.body_sink &&
      t->api.easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
      status < 300) {
    t->sink_status = t->request.body_sink(chunk);
    return t->sink_status.ok() ? chunk.size() : 0;
  }
  t->response.body.append(chunk);
  return chunk.size();
}

// Collects "Name: value" lines, names lower-cased; repeated names are joined with ", ".
size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = &static_cast<Transfer*>(user)->response.headers;
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response begins (after 100 Continue, say)
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(Trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string value(Trim(line.substr(colon + 1)));
  auto [it, inserted] = headers->emplace(std::move(name), value);
  if (!inserted) it->second += ", " + value;
  return size * count;
}

// Feeds a streamed upload from Transfer::pending; pauses when it is empty.
size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->pending.empty()) {
    if (t->eof) return 0;
    t->paused = true;
    return CURL_READFUNC_PAUSE;
  }
  const size_t n = std::min(size * count, t->pending.size());
  std::copy_n(t->pending.data(), n, buffer);
  t->pending.remove_prefix(n);
  return n;
}

// Cancellation and stall detection; called by libcurl at least once a second.
int Progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request.cancel != nullptr && t->request.cancel->load()) {
    t->cancelled = true;
    return 1;
  }
  const auto now = Clock::now();
  if (dlnow + ulnow != t->moved) {
    t->moved = dlnow + ulnow;
    t->last_move = now;
  } else if (t->request.stall_timeout.count() > 0 &&
             now - t->last_move > t->request.stall_timeout) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

// Builds the header list; InvalidArgument when a name or value could split the request.
Status BuildHeaders(Transfer& t) {
  auto append = [&t](const std::string& line) {
    curl_slist* next = t.api.slist_append(t.headers, line.c_str());
    if (next == nullptr) return false;
    t.headers = next;
    return true;
  };
  for (const auto& [name, value] : t.request.headers) {
    if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("invalid HTTP header '" + name + "'");
    }
    // curl sends "Name;" as a header with an empty value.
    if (!append(value.empty() ? name + ";" : name + ": " + value)) {
      return Status::Internal("out of memory building HTTP headers");
    }
  }
  // libcurl 7.88 signs every header in the list, removals ("Name:") included
  // as empty values that are never sent: a signed request gets none.
  if (!t.request.aws.provider.empty()) return Status::Ok();
  bool ok = append("Expect:");  // no 100-continue round trip
  if (SendsBody(t.request) && !HasHeader(t.request, "Content-Type")) {
    ok = ok && append("Content-Type:");
  }
  if (!ok) return Status::Internal("out of memory building HTTP headers");
  return Status::Ok();
}

void SetMethod(Options& opts, const Request& request, bool streamed) {
  if (streamed) {
    // No size given: HTTP/1.1 chunked transfer encoding.
    opts.Set(CURLOPT_UPLOAD, 1L);
    if (request.method != "PUT") opts.Set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    return;
  }
  if (request.method == "GET" && request.body.empty()) {
    opts.Set(CURLOPT_HTTPGET, 1L);
    return;
  }
  if (request.method == "HEAD") {
    opts.Set(CURLOPT_NOBODY, 1L);
    return;
  }
  if (SendsBody(request)) {
    // POSTFIELDS with a custom verb: curl can resend it on a fresh connection.
    opts.Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    opts.Set(CURLOPT_POSTFIELDS, request.body.data());
  }
  if (request.method != "POST") opts.Set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
}

void SetTls(Options& opts, const TlsOptions& tls) {
  if (!tls.ca_file.empty()) opts.Set(CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) opts.Set(CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) opts.Set(CURLOPT_SSLKEY, tls.key_file.c_str());
  opts.Set(CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
  opts.Set(CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
}

void SetTimeouts(Options& opts, std::chrono::milliseconds timeout) {
  const auto connect =
      timeout.count() > 0 ? std::min(timeout, kMaxConnectTimeout) : kMaxConnectTimeout;
  opts.Set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(timeout.count(), 0)));
  opts.Set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));
}

void SetSigning(Options& opts, const AwsSigV4& aws) {
  if (aws.provider.empty()) return;
  opts.Set(CURLOPT_AWS_SIGV4, aws.provider.c_str());
  opts.Set(CURLOPT_USERNAME, aws.access_key.c_str());
  opts.Set(CURLOPT_PASSWORD, aws.secret_key.c_str());
}

// Everything a transfer needs on `t.easy`; the status of the first failure.
Status Configure(Transfer& t, const TlsOptions& tls, bool streamed) {
  MANAGE_RETURN_IF_ERROR(BuildHeaders(t));
  const Request& request = t.request;
  Options opts(t.api, t.easy);
  opts.Set(CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
  opts.Set(CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  opts.Set(CURLOPT_NOSIGNAL, 1L);
  opts.Set(CURLOPT_ERRORBUFFER, t.errbuf);
  opts.Set(CURLOPT_HTTPHEADER, t.headers);
  opts.Set(CURLOPT_WRITEFUNCTION, &WriteBody);
  opts.Set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  opts.Set(CURLOPT_HEADERFUNCTION, &WriteHeader);
  opts.Set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  if (request.cancel != nullptr || request.stall_timeout.count() > 0) {
    opts.Set(CURLOPT_NOPROGRESS, 0L);
    opts.Set(CURLOPT_XFERINFOFUNCTION, &Progress);
    opts.Set(CURLOPT_XFERINFODATA, static_cast<void*>(&t));
  }
  if (streamed) {
    opts.Set(CURLOPT_READFUNCTION, &ReadBody);
    opts.Set(CURLOPT_READDATA, static_cast<void*>(&t));
    opts.Set(CURLOPT_UPLOAD_BUFFERSIZE, kStreamBufferBytes);
  }
  if (request.body_sink) opts.Set(CURLOPT_BUFFERSIZE, kStreamBufferBytes);
  SetMethod(opts, request, streamed);
  SetTimeouts(opts, request.timeout);
  SetTls(opts, tls);
  SetSigning(opts, request.aws);
  if (opts.rc() != CURLE_OK) return CurlStatus(opts.rc(), t);
  return Status::Ok();
}

// The response of a finished transfer, or why there is none.
Result<Response> Outcome(Transfer& t, CURLcode rc) {
  if (rc == CURLE_OK) rc = t.api.easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.response.status);
  if (rc != CURLE_OK) return CurlStatus(rc, t);
  return std::move(t.response);
}

// A streamed upload on its own easy and multi handles, driven from Write and
// Finish: each call runs libcurl until it has taken the data (the read
// callback paused for more) or the transfer ended.
class CurlUpload final : public UploadStream {
 public:
  CurlUpload(const CurlApi& api, Request request)
      : api_(api), request_(std::move(request)), t_(api, request_) {}
  ~CurlUpload() override { Abort(); }

  Status Start(const TlsOptions& tls) {
    multi_ = api_.multi_init();
    t_.easy = api_.easy_init();
    if (multi_ == nullptr || t_.easy == nullptr) return Status::Internal("libcurl init failed");
    MANAGE_RETURN_IF_ERROR(Configure(t_, tls, /*streamed=*/true));
    if (api_.multi_add_handle(multi_, t_.easy) != CURLM_OK) {
      return Status::Internal("curl_multi_add_handle failed");
    }
    added_ = true;
    return Status::Ok();
  }

  Status Write(std::string_view data) override {
    if (finished_) return Status::FailedPrecondition("upload already ended");
    t_.pending = data;
    MANAGE_RETURN_IF_ERROR(Drive(/*to_end=*/false));
    if (done_) return Failure("the server answered before the upload ended");
    return Status::Ok();
  }

  Result<Response> Finish() override {
    if (finished_) return Status::FailedPrecondition("upload already ended");
    t_.eof = true;
    Status driven = Drive(/*to_end=*/true);
    finished_ = true;
    if (!driven.ok()) return driven;
    Result<Response> out = Outcome(t_, result_);
    Abort();
    return out;
  }

  bool Answered() const override { return done_ && result_ == CURLE_OK; }

  void Abort() override {
    finished_ = true;
    if (added_) api_.multi_remove_handle(multi_, t_.easy);
    added_ = false;
    if (t_.easy != nullptr) api_.easy_cleanup(t_.easy);
    t_.easy = nullptr;
    if (multi_ != nullptr) api_.multi_cleanup(multi_);
    multi_ = nullptr;
  }

 private:
  // Runs the transfer until curl has taken all pending data and asks for more,
  // or (to_end) until it has finished.
  Status Drive(bool to_end) {
    t_.last_move = Clock::now();  // time spent outside Drive is not a stall
    if (t_.paused) {
      t_.paused = false;
      api_.easy_pause(t_.easy, CURLPAUSE_CONT);
    }
    for (;;) {
      int running = 0;
      CURLMcode mc = api_.multi_perform(multi_, &running);
      if (mc != CURLM_OK) return Status::Internal(api_.multi_strerror(mc));
      int queued = 0;
      while (CURLMsg* msg = api_.multi_info_read(multi_, &queued)) {
        if (msg->msg == CURLMSG_DONE) {
          done_ = true;
          result_ = msg->data.result;
        }
      }
      if (done_) return result_ == CURLE_OK ? Status::Ok() : CurlStatus(result_, t_);
      if (!to_end && t_.pending.empty() && t_.paused) return Status::Ok();
      mc = api_.multi_poll(multi_, nullptr, 0, kPollMs, nullptr);
      if (mc != CURLM_OK) return Status::Internal(api_.multi_strerror(mc));
    }
  }

  // Leaves the response in place for Finish.
  Status Failure(const std::string& what) {
    std::string msg = request_.method + " " + RedactUrl(request_.url) + ": " + what;
    long status = 0;
    if (api_.easy_getinfo(t_.easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status > 0) {
      msg += " (HTTP " + std::to_string(status) + ")";
    }
    return Status::Unavailable(msg);
  }

  const CurlApi& api_;
  Request request_;
  Transfer t_;
  CURLM* multi_ = nullptr;
  bool added_ = false;
  bool done_ = false;
  bool finished_ = false;
  CURLcode result_ = CURLE_OK;
};

}  // namespace

Result<std::unique_ptr<UploadStream>> HttpTransport::StartUpload(const Request& request) {
  return Status::FailedPrecondition("this transport cannot stream " + request.method + " " +
                                    RedactUrl(request.url));
}

struct CurlTransport::Impl {
  const CurlApi* api = nullptr;
  TlsOptions tls;
  CURL* handle = nullptr;
  ~Impl() {
    if (handle != nullptr) api->easy_cleanup(handle);
  }
};

CurlTransport::CurlTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CurlTransport::~CurlTransport() = default;

Result<std::unique_ptr<CurlTransport>> CurlTransport::Create(TlsOptions tls) {
  Result<const CurlApi*> api = LoadCurl();
  if (!api.ok()) return api.status();
  auto impl = std::make_unique<Impl>();
  impl->api = *api;
  impl->tls = std::move(tls);
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(impl)));
}

Result<Response> CurlTransport::Send(const Request& request) {
  const CurlApi& api = *impl_->api;
  if (impl_->handle == nullptr) impl_->handle = api.easy_init();
  if (impl_->handle == nullptr) return Status::Internal("curl_easy_init failed");
  // Keeps open connections; forgets every option and pointer from this transfer.
  struct ResetOnExit {
    const CurlApi& api;
    CURL* handle;
    ~ResetOnExit() { api.easy_reset(handle); }
  } reset{api, impl_->handle};
  Transfer t(api, request);
  t.easy = impl_->handle;
  MANAGE_RETURN_IF_ERROR(Configure(t, impl_->tls, /*streamed=*/false));
  return Outcome(t, api.easy_perform(t.easy));
}

Result<std::unique_ptr<UploadStream>> CurlTransport::StartUpload(const Request& request) {
  if (!request.body.empty()) return Status::InvalidArgument("a streamed upload has no body");
  auto upload = std::make_unique<CurlUpload>(*impl_->api, request);
  MANAGE_RETURN_IF_ERROR(upload->Start(impl_->tls));
  return std::unique_ptr<UploadStream>(std::move(upload));
}

}  // namespace manage::http
