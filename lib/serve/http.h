// The HTTP requests and responses of `manage serve`, as plain values: the
// endpoints (endpoints.h) are a pure function from one to the other, and the
// server (http_server.h) only moves them over the network.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace manage::serve {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // as sent: "GET", "HEAD", "OPTIONS", ...
  std::string path;    // decoded, without the query
  // Query arguments in order, decoded; a key without '=' has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;  // the server sends none for HEAD and OPTIONS
  HeaderList headers;
};

}  // namespace manage::serve
