#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "http/transport.h"

namespace manage::http {

namespace {

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};

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

// The one place a CURLcode becomes a Status.
Status CurlStatus(CURLcode code, const char* detail, const Request& request) {
  if (code == CURLE_OK) return Status::Ok();
  std::string msg = request.method + " " + RedactUrl(request.url) + ": ";
  msg += (detail != nullptr && *detail != '\0') ? detail : curl_easy_strerror(code);
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
  explicit Options(CURL* handle) : handle_(handle) {}
  template <typename T>
  void Set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) rc_ = curl_easy_setopt(handle_, option, value);
  }
  CURLcode rc() const { return rc_; }

 private:
  CURL* handle_;
  CURLcode rc_ = CURLE_OK;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Collects "Name: value" lines, names lower-cased; repeated names are joined with ", ".
size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
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

// Builds the header list; InvalidArgument when a name or value could split the request.
Result<HeaderList> BuildHeaders(const Request& request) {
  HeaderList list;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) return false;
    (void)list.release();
    list.reset(next);
    return true;
  };
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("invalid HTTP header '" + name + "'");
    }
    // curl sends "Name;" as a header with an empty value.
    if (!append(value.empty() ? name + ";" : name + ": " + value)) {
      return Status::Internal("out of memory building HTTP headers");
    }
  }
  bool ok = append("Expect:");  // no 100-continue round trip
  if (SendsBody(request) && !HasHeader(request, "Content-Type")) ok = ok && append("Content-Type:");
  if (!ok) return Status::Internal("out of memory building HTTP headers");
  return list;
}

void SetMethod(Options& opts, const Request& request) {
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

}  // namespace

struct CurlTransport::Impl {
  TlsOptions tls;
  bool global_init = false;
  EasyHandle handle;
  HeaderList headers;  // referenced by the handle during a transfer
  char errbuf[CURL_ERROR_SIZE] = {};
};

CurlTransport::CurlTransport(TlsOptions tls) : impl_(std::make_unique<Impl>()) {
  impl_->tls = std::move(tls);
  // Reference-counted and thread-safe in the libcurl versions we build against.
  impl_->global_init = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  impl_->handle.reset(curl_easy_init());
}

CurlTransport::~CurlTransport() {
  impl_->handle.reset();
  if (impl_->global_init) curl_global_cleanup();
}

Result<Response> CurlTransport::Send(const Request& request) {
  if (!impl_->handle) impl_->handle.reset(curl_easy_init());
  if (!impl_->handle) return Status::Internal("curl_easy_init failed");
  CURL* handle = impl_->handle.get();
  // Keeps open connections; forgets every option and pointer from this transfer.
  struct ResetOnExit {
    CURL* handle;
    ~ResetOnExit() { curl_easy_reset(handle); }
  } reset{handle};

  Result<HeaderList> headers = BuildHeaders(request);
  if (!headers.ok()) return headers.status();
  impl_->headers = std::move(headers).value();
  impl_->errbuf[0] = '\0';

  Response response;
  Options opts(handle);
  opts.Set(CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
  opts.Set(CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  opts.Set(CURLOPT_NOSIGNAL, 1L);
  opts.Set(CURLOPT_ERRORBUFFER, impl_->errbuf);
  opts.Set(CURLOPT_HTTPHEADER, impl_->headers.get());
  opts.Set(CURLOPT_WRITEFUNCTION, &WriteBody);
  opts.Set(CURLOPT_WRITEDATA, static_cast<void*>(&response.body));
  opts.Set(CURLOPT_HEADERFUNCTION, &WriteHeader);
  opts.Set(CURLOPT_HEADERDATA, static_cast<void*>(&response.headers));
  SetMethod(opts, request);
  SetTimeouts(opts, request.timeout);
  SetTls(opts, impl_->tls);
  if (opts.rc() != CURLE_OK) return CurlStatus(opts.rc(), nullptr, request);

  CURLcode rc = curl_easy_perform(handle);
  if (rc == CURLE_OK) rc = curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc != CURLE_OK) return CurlStatus(rc, impl_->errbuf, request);
  return response;
}

}  // namespace manage::http
