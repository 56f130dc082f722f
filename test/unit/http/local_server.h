// LocalServer: a minimal HTTP/1.1 server on 127.0.0.1 for transport tests. One
// thread serves the scripted replies in order, one request per connection unless
// a reply says keep_open, and records each raw request. Owns its socket and thread; the accessors
// are safe to call while it runs.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace manage::http {

class LocalServer {
 public:
  struct Reply {
    std::string raw;         // the bytes written back, status line included
    bool hang = false;       // read the request, never answer, wait for the client to go
    bool keep_open = false;  // answer the next request on the same connection
    // Answer as soon as the headers arrived, then read (and drop) what the
    // client still sends until it closes: a server refusing an upload early.
    bool early = false;
  };

  explicit LocalServer(std::vector<Reply> replies);
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  // False when the socket could not be set up; the test should fail then.
  bool ok() const { return listen_fd_ >= 0; }
  std::string Url(const std::string& path) const;
  // Raw requests received so far: request line, headers, blank line, body.
  std::vector<std::string> requests() const;

  // A reply with Content-Length and Connection: close filled in.
  static Reply Answer(int status, const std::string& reason, const std::string& body,
                      const std::string& extra_headers = "");

 private:
  void Serve(std::vector<Reply> replies);
  void Record(std::string request);

  int listen_fd_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// A port on 127.0.0.1 that refuses connections for as long as this object lives:
// bound, never listening.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace manage::http
