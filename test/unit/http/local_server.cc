#include "local_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

namespace manage::http {

namespace {

constexpr int kIdleLimitMs = 10000;  // never wait longer than this for a client

int BindLoopback(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// Reads with a time limit; returns bytes read, 0 at end of stream, -1 on error or timeout.
ssize_t ReadSome(int fd, char* buf, size_t size) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, kIdleLimitMs) <= 0) return -1;
  return read(fd, buf, size);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

size_t ContentLength(const std::string& head) {
  const std::string lower = Lower(head);
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

// True when `data` holds a whole request: headers, then Content-Length bytes
// of body, or a chunked body up to its last (empty) chunk.
bool Complete(const std::string& data) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  const std::string head = data.substr(0, head_end);
  if (Lower(head).find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    return data.find("\r\n0\r\n\r\n", head_end) != std::string::npos;
  }
  return data.size() >= head_end + 4 + ContentLength(head);
}

// Reads up to the end of the headers.
std::string ReadHead(int fd) {
  std::string data;
  char c;
  while (data.find("\r\n\r\n") == std::string::npos) {
    if (ReadSome(fd, &c, 1) <= 0) break;
    data.push_back(c);
  }
  return data;
}

// Reads one request, or what arrived of it before the client went away.
std::string ReadRequest(int fd) {
  std::string data;
  char buf[4096];
  while (true) {
    if (Complete(data)) return data;
    const ssize_t n = ReadSome(fd, buf, sizeof(buf));
    if (n <= 0) return data;
    data.append(buf, static_cast<size_t>(n));
  }
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

LocalServer::LocalServer(std::vector<Reply> replies) {
  listen_fd_ = BindLoopback(&port_);
  if (listen_fd_ >= 0 && listen(listen_fd_, 8) != 0) {
    close(listen_fd_);
    listen_fd_ = -1;
  }
  if (listen_fd_ >= 0) thread_ = std::thread(&LocalServer::Serve, this, std::move(replies));
}

LocalServer::~LocalServer() {
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);  // wakes a blocked accept()
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

std::string LocalServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<std::string> LocalServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void LocalServer::Record(std::string request) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(std::move(request));
}

void LocalServer::Serve(std::vector<Reply> replies) {
  int fd = -1;
  for (const Reply& reply : replies) {
    if (fd < 0) fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (reply.early) {
      Record(ReadHead(fd));
      WriteAll(fd, reply.raw);
      char buf[4096];
      while (ReadSome(fd, buf, sizeof(buf)) > 0) {
      }
      close(fd);
      fd = -1;
      continue;
    }
    Record(ReadRequest(fd));
    if (reply.hang) {
      char buf[256];
      while (ReadSome(fd, buf, sizeof(buf)) > 0) {
      }
    } else {
      WriteAll(fd, reply.raw);
    }
    if (!reply.keep_open) {
      close(fd);
      fd = -1;
    }
  }
  if (fd >= 0) close(fd);
}

LocalServer::Reply LocalServer::Answer(int status, const std::string& reason,
                                       const std::string& body, const std::string& extra_headers) {
  return Reply{"HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra_headers +
                   "Content-Length: " + std::to_string(body.size()) +
                   "\r\nConnection: close\r\n\r\n" + body,
               false};
}

RefusingPort::RefusingPort() { fd_ = BindLoopback(&port_); }

RefusingPort::~RefusingPort() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace manage::http
