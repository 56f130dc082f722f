#include "http/socket_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "http/resolve.h"

namespace manage::http {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

constexpr size_t kMaxResponseBytes = 64u << 20;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

// The one place where a socket or TLS failure becomes a Status.
Status NetError(const std::string& what, int err) {
  return Status::Unavailable(fmt::format("{}: {}", what, std::strerror(err)));
}

Status TlsError(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown TLS error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return Status::Unavailable(fmt::format("{}: {}", what, buf));
}

int MillisLeft(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

// One TCP connection, with TLS on top when asked for.
class Connection {
 public:
  ~Connection() { Close(); }
  bool open() const { return fd_ >= 0; }
  const std::string& key() const { return key_; }

  Status Open(const ParsedUrl& url, SSL_CTX* ctx, const Lookup& lookup, Deadline deadline);
  Status Write(std::string_view data, Deadline deadline);
  // Bytes read into buf; 0 at end of stream.
  Result<size_t> Read(char* buf, size_t len, Deadline deadline);
  void Close();

 private:
  Status Wait(short events, Deadline deadline);
  Status Connect(const SocketAddress& a, Deadline deadline);
  Status Handshake(const ParsedUrl& url, SSL_CTX* ctx, Deadline deadline);
  // For TLS calls that want to read or write before they can go on.
  Status WaitTls(int ret, const char* what, Deadline deadline);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string key_;
};

Status Connection::Wait(short events, Deadline deadline) {
  pollfd p{fd_, events, 0};
  while (true) {
    int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return Status::Ok();
    if (n == 0) return Status::DeadlineExceeded("no answer before the request timeout");
    if (errno != EINTR) return NetError("poll", errno);
  }
}

Status Connection::Connect(const SocketAddress& a, Deadline deadline) {
  fd_ = ::socket(a.family, a.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a.protocol);
  if (fd_ < 0) return NetError("socket", errno);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0) return Status::Ok();
  if (errno != EINPROGRESS) return NetError("connect", errno);
  MANAGE_RETURN_IF_ERROR(Wait(POLLOUT, deadline));
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0 ? Status::Ok() : NetError("connect", err);
}

Status Connection::WaitTls(int ret, const char* what, Deadline deadline) {
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ) return Wait(POLLIN, deadline);
  if (err == SSL_ERROR_WANT_WRITE) return Wait(POLLOUT, deadline);
  if (err == SSL_ERROR_SYSCALL && errno != 0) return NetError(what, errno);
  return TlsError(what);
}

Status Connection::Handshake(const ParsedUrl& url, SSL_CTX* ctx, Deadline deadline) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) return TlsError("TLS setup");
  SSL_set_fd(ssl_, fd_);
  in6_addr ip{};
  bool literal = inet_pton(AF_INET, url.host.c_str(), &ip) == 1 ||
                 inet_pton(AF_INET6, url.host.c_str(), &ip) == 1;
  if (!literal) SSL_set_tlsext_host_name(ssl_, url.host.c_str());  // no SNI for addresses
  if (SSL_CTX_get_verify_mode(ctx) != SSL_VERIFY_NONE) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    if (ok != 1) return TlsError("TLS host check setup");
  }
  while (true) {
    int ret = SSL_connect(ssl_);
    if (ret == 1) return Status::Ok();
    MANAGE_RETURN_IF_ERROR(WaitTls(ret, "TLS handshake", deadline));
  }
}

Status Connection::Open(const ParsedUrl& url, SSL_CTX* ctx, const Lookup& lookup,
                        Deadline deadline) {
  Close();
  // The lookup counts against the request's deadline like the rest.
  auto addresses = ResolveBefore(url.host, url.port, deadline, lookup);
  if (!addresses.ok()) return addresses.status();
  Status st = Status::Unavailable("no address for " + url.host);
  for (const SocketAddress& a : *addresses) {
    st = Connect(a, deadline);
    if (st.ok() || st.code() == Code::kDeadlineExceeded) break;
    Close();
  }
  if (st.ok() && url.tls) st = Handshake(url, ctx, deadline);
  if (!st.ok()) {
    Close();
    return st.Annotate(fmt::format("connecting to {}:{}", url.host, url.port));
  }
  key_ = fmt::format("{}://{}:{}", url.tls ? "https" : "http", url.host, url.port);
  return Status::Ok();
}

Status Connection::Write(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    if (ssl_) {
      int ret = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (ret > 0) {
        data.remove_prefix(static_cast<size_t>(ret));
        continue;
      }
      MANAGE_RETURN_IF_ERROR(WaitTls(ret, "TLS write", deadline));
      continue;
    }
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      MANAGE_RETURN_IF_ERROR(Wait(POLLOUT, deadline));
    } else if (errno != EINTR) {
      return NetError("send", errno);
    }
  }
  return Status::Ok();
}

Result<size_t> Connection::Read(char* buf, size_t len, Deadline deadline) {
  while (true) {
    if (ssl_) {
      int ret = SSL_read(ssl_, buf, static_cast<int>(len));
      if (ret > 0) return static_cast<size_t>(ret);
      int err = SSL_get_error(ssl_, ret);
      if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
      if (err == SSL_ERROR_SYSCALL && errno == 0) return size_t{0};
      MANAGE_RETURN_IF_ERROR(WaitTls(ret, "TLS read", deadline));
      continue;
    }
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      MANAGE_RETURN_IF_ERROR(Wait(POLLIN, deadline));
    } else if (errno != EINTR) {
      return NetError("recv", errno);
    }
  }
}

void Connection::Close() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  key_.clear();
}

// Buffered reading of one response from a Connection.
class ResponseReader {
 public:
  ResponseReader(Connection* conn, Deadline deadline) : conn_(conn), deadline_(deadline) {}
  bool got_any() const { return got_any_; }

  Result<std::string> Line() {
    while (true) {
      size_t eol = buf_.find("\r\n", pos_);
      if (eol != std::string::npos) {
        std::string line = buf_.substr(pos_, eol - pos_);
        pos_ = eol + 2;
        return line;
      }
      MANAGE_RETURN_IF_ERROR(Fill("the connection closed in the middle of a header"));
    }
  }
  Result<std::string> Exactly(size_t n) {
    while (buf_.size() - pos_ < n) MANAGE_RETURN_IF_ERROR(Fill("the body was cut short"));
    std::string out = buf_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  Result<std::string> UntilEof() {
    while (true) {
      Status st = Fill("");
      if (st.code() == Code::kNotFound) break;
      MANAGE_RETURN_IF_ERROR(st);
    }
    std::string out = buf_.substr(pos_);
    pos_ = buf_.size();
    return out;
  }

 private:
  // Reads more; NotFound at end of stream when `eof_error` is empty.
  Status Fill(const std::string& eof_error) {
    if (buf_.size() > kMaxResponseBytes) return Status::Internal("response too large");
    char chunk[16384];
    auto n = conn_->Read(chunk, sizeof chunk, deadline_);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      return eof_error.empty() ? Status::NotFound("end of stream")
                               : Status::Unavailable(got_any_ ? eof_error
                                                              : "the server closed the connection "
                                                                "without answering");
    }
    got_any_ = true;
    buf_.append(chunk, *n);
    return Status::Ok();
  }

  Connection* conn_;
  Deadline deadline_;
  std::string buf_;
  size_t pos_ = 0;
  bool got_any_ = false;
};

Result<std::string> ReadChunked(ResponseReader& r) {
  std::string body;
  while (true) {
    auto size_line = r.Line();
    if (!size_line.ok()) return size_line.status();
    size_t size = 0;
    try {
      size = std::stoul(size_line->substr(0, size_line->find(';')), nullptr, 16);
    } catch (...) {
      return Status::Unavailable("malformed chunk size in HTTP response");
    }
    if (size == 0) break;
    auto data = r.Exactly(size);
    if (!data.ok()) return data.status();
    body += *data;
    if (body.size() > kMaxResponseBytes) return Status::Internal("response too large");
    auto crlf = r.Line();
    if (!crlf.ok()) return crlf.status();
  }
  while (true) {  // trailers, up to the blank line
    auto line = r.Line();
    if (!line.ok()) return line.status();
    if (line->empty()) return body;
  }
}

Status ParseStatusLine(const std::string& line, Response& response) {
  // "HTTP/1.1 200 OK"
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12 || line[8] != ' ') {
    return Status::Unavailable("malformed HTTP status line: " + line.substr(0, 64));
  }
  try {
    response.status = std::stol(line.substr(9, 3));
  } catch (...) {
    return Status::Unavailable("malformed HTTP status line: " + line.substr(0, 64));
  }
  return Status::Ok();
}

// Reads one response; sets *keep_alive when the connection may be reused.
Result<Response> ReadResponse(ResponseReader& r, const std::string& method, bool* keep_alive) {
  Response response;
  auto status_line = r.Line();
  if (!status_line.ok()) return status_line.status();
  MANAGE_RETURN_IF_ERROR(ParseStatusLine(*status_line, response));
  while (true) {
    auto line = r.Line();
    if (!line.ok()) return line.status();
    if (line->empty()) break;
    size_t colon = line->find(':');
    if (colon == std::string::npos) return Status::Unavailable("malformed HTTP header line");
    std::string& value = response.headers[Lower(line->substr(0, colon))];
    value += (value.empty() ? "" : ", ") + Trim(line->substr(colon + 1));
  }
  auto header = [&](const char* name) {
    auto it = response.headers.find(name);
    return it == response.headers.end() ? std::string() : Lower(it->second);
  };
  *keep_alive = header("connection") != "close";
  bool no_body = method == "HEAD" || response.status == 204 || response.status == 304 ||
                 response.status / 100 == 1;
  Result<std::string> body = std::string();
  if (no_body) {
    body = std::string();
  } else if (header("transfer-encoding").find("chunked") != std::string::npos) {
    body = ReadChunked(r);
  } else if (!header("content-length").empty()) {
    size_t length = 0;
    try {
      length = std::stoul(header("content-length"));
    } catch (...) {
      return Status::Unavailable("malformed Content-Length in HTTP response");
    }
    if (length > kMaxResponseBytes) return Status::Internal("response too large");
    body = r.Exactly(length);
  } else {
    *keep_alive = false;
    body = r.UntilEof();
  }
  if (!body.ok()) return body.status();
  response.body = std::move(*body);
  return response;
}

std::string FormatRequest(const Request& req, const ParsedUrl& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  std::string out = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: manage/{}\r\n"
      "Accept: */*\r\n",
      req.method, url.target, host, url.port, MANAGE_VERSION);
  if (!url.userinfo.empty()) {
    std::string encoded(4 * ((url.userinfo.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                            reinterpret_cast<const unsigned char*>(url.userinfo.data()),
                            static_cast<int>(url.userinfo.size()));
    encoded.resize(n > 0 ? static_cast<size_t>(n) : 0);
    out += "Authorization: Basic " + encoded + "\r\n";
  }
  for (const auto& [name, value] : req.headers) out += name + ": " + value + "\r\n";
  bool needs_length =
      !req.body.empty() || (req.method != "GET" && req.method != "DELETE" && req.method != "HEAD");
  if (needs_length) out += fmt::format("Content-Length: {}\r\n", req.body.size());
  out += "\r\n";
  out += req.body;
  return out;
}

Status ValidateRequest(const Request& req) {
  if (req.method.empty()) return Status::InvalidArgument("HTTP method is empty");
  if (!req.aws.provider.empty() || req.body_sink || req.cancel != nullptr ||
      req.stall_timeout.count() > 0) {
    return Status::InvalidArgument("SocketTransport does not sign, stream or cancel requests");
  }
  for (char c : req.method) {
    if (!std::isupper(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument("invalid HTTP method '" + req.method + "'");
    }
  }
  for (const auto& [name, value] : req.headers) {
    if (name.empty() || name.find_first_of(": \t\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("invalid HTTP header '" + name + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::InvalidArgument("URL without a scheme: " + std::string(url));
  }
  std::string scheme = Lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("unsupported URL scheme '" + scheme + "'");
  }
  out.tls = scheme == "https";
  std::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target[0] == '?') out.target = "/" + out.target;
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    out.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("malformed IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Status::InvalidArgument("malformed URL host");
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::InvalidArgument("URL without a host");
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  for (char c : out.port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Status::InvalidArgument("invalid port in URL");
    }
  }
  return out;
}

struct SocketTransport::Impl {
  TlsOptions tls;
  Lookup lookup;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, SSL_CTX_free};
  Connection conn;

  Status EnsureContext() {
    if (ctx) return Status::Ok();
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return TlsError("TLS setup");
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    if (!tls.verify) {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    } else {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      int ok = tls.ca_file.empty()
                   ? SSL_CTX_set_default_verify_paths(ctx.get())
                   : SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr);
      if (ok != 1) return TlsError("loading CA certificates");
    }
    if (!tls.cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
      return TlsError("loading the client certificate");
    }
    return Status::Ok();
  }

  // One attempt on the current or a new connection. *retry is set when a reused
  // connection turned out dead before any answer arrived.
  Result<Response> Attempt(const Request& req, const ParsedUrl& url, Deadline deadline,
                           bool* retry) {
    std::string key = fmt::format("{}://{}:{}", url.tls ? "https" : "http", url.host, url.port);
    bool reused = conn.open() && conn.key() == key;
    if (!reused) {
      if (url.tls) MANAGE_RETURN_IF_ERROR(EnsureContext());
      MANAGE_RETURN_IF_ERROR(conn.Open(url, ctx.get(), lookup, deadline));
    }
    Status sent = conn.Write(FormatRequest(req, url), deadline);
    ResponseReader reader(&conn, deadline);
    bool keep_alive = false;
    Result<Response> response =
        sent.ok() ? ReadResponse(reader, req.method, &keep_alive) : Result<Response>(sent);
    if (!response.ok() || !keep_alive) conn.Close();
    *retry = !response.ok() && reused && !reader.got_any() &&
             response.status().code() == Code::kUnavailable;
    return response;
  }
};

SocketTransport::SocketTransport(TlsOptions tls, Lookup lookup) : impl_(std::make_unique<Impl>()) {
  impl_->tls = std::move(tls);
  impl_->lookup = std::move(lookup);
}

SocketTransport::~SocketTransport() = default;

Result<Response> SocketTransport::Send(const Request& request) {
  MANAGE_RETURN_IF_ERROR(ValidateRequest(request));
  auto url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  Deadline deadline = SteadyClock::now() + request.timeout;
  bool retry = false;
  auto response = impl_->Attempt(request, *url, deadline, &retry);
  if (retry) response = impl_->Attempt(request, *url, deadline, &retry);
  if (response.ok()) return response;
  // Named without credentials or query string, which may carry a token.
  std::string path = url->target.substr(0, url->target.find('?'));
  return response.status().Annotate(fmt::format(
      "{} {}://{}:{}{}", request.method, url->tls ? "https" : "http", url->host, url->port, path));
}

}  // namespace manage::http
