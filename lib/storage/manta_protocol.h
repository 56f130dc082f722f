// The pure half of the Manta client: paths, the directory listing format,
// dates, and what Manta's answers mean as a Status (from Manta's REST API and
// its web tier, muskie: status codes and {"code","message"} error bodies).
// No I/O; table-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/transport.h"

namespace manage::storage::manta {

// "/acct/stor/a b" -> "/acct/stor/a%20b": each component percent-encoded
// (node-manta encodes components with encodeURIComponent).
std::string EncodePath(std::string_view path);

// The directories `dir` needs, shallowest first: its ancestors below the two
// top levels ("/acct/stor", which always exist and cannot be created) and
// `dir` itself. "/acct/stor" -> {}; "/acct/stor/a/b" -> {".../a", ".../a/b"}.
std::vector<std::string> CreatableDirectories(std::string_view dir);

struct DirectoryEntry {
  std::string name;
  std::string type;  // "object" or "directory"
  uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
  std::string etag;
};

// One page of a directory listing (GetDirectory: "application/x-json-stream;
// type=directory", one JSON object per line, sorted by name; `marker` is
// inclusive). Internal naming the line when one is malformed.
Result<std::vector<DirectoryEntry>> ParseDirectoryPage(std::string_view body);

// "Thu, 01 Jan 2026 00:00:00 GMT" (Last-Modified); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text);
// "2013-05-22T17:39:43.714Z" (listing mtimes); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseIsoTime(std::string_view text);

// Whether a HEAD or GET answer describes a directory (its Content-Type).
bool IsDirectory(const http::Response& response);

// OK for 2xx. Otherwise the status a store returns: NotFound for a missing
// object (ResourceNotFound); Unavailable for 408, 429 and 5xx (retried);
// Aborted for 412 (the object changed); FailedPrecondition for the rest, with
// the variable most likely to be wrong. The message starts with `what` and
// carries Manta's error code and message.
Status StatusOf(const http::Response& response, const std::string& what);

}  // namespace manage::storage::manta
