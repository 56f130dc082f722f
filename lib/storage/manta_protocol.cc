#include "storage/manta_protocol.h"

#include <rapidjson/document.h>

#include <cstdio>

namespace manage::storage::manta {
namespace {

using std::chrono::system_clock;

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::optional<system_clock::time_point> MakeTime(int y, unsigned mon, unsigned d, int h, int mi,
                                                 int s) {
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{mon}, day{d}};
  if (!ymd.ok() || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return std::nullopt;
  return sys_days{ymd} + hours(h) + minutes(mi) + seconds(s);
}

std::string StringMember(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// The variable an operator should look at for Manta's error `code`.
std::string Hint(long status, const std::string& code) {
  if (code == "InvalidSignature" || code == "KeyDoesNotExist" || code == "InvalidKeyId") {
    return "Manta does not know this key for this user: check MANTA_KEY_ID, MANTA_PRIVATE_KEY, "
           "MANTA_USER and MANTA_SUBUSER";
  }
  if (code == "AccountDoesNotExist" || code == "UserDoesNotExist") {
    return "check MANTA_USER and MANTA_SUBUSER";
  }
  if (code == "AuthorizationFailed" || code == "NoMatchingRoleTag" || code == "MissingPermission" ||
      code == "InvalidRole") {
    return "check MANTA_ROLE, the sub-user's roles and MANTA_BUCKET";
  }
  if (code == "SecureTransportRequired") return "MANTA_URL must be an https:// URL";
  if (code == "MaxContentLengthExceeded" || code == "NotEnoughSpace") {
    return "see MANTA_MAX_OBJECT_SIZE_GB";
  }
  if (code == "DirectoryDoesNotExist" || code == "ParentNotDirectory") return "check MANTA_BUCKET";
  if (status == 401 || status == 403) {
    return "check MANTA_USER, MANTA_SUBUSER, MANTA_ROLE, MANTA_KEY_ID, MANTA_PRIVATE_KEY and this "
           "host's clock";
  }
  return "";
}

}  // namespace

std::string EncodePath(std::string_view path) {
  std::string out;
  for (const std::string& part : Components(path)) out += "/" + http::UrlEncode(part);
  return out.empty() ? "/" : out;
}

std::vector<std::string> CreatableDirectories(std::string_view dir) {
  std::vector<std::string> parts = Components(dir);
  std::vector<std::string> out;
  std::string path;
  for (size_t i = 0; i < parts.size(); ++i) {
    path += "/" + parts[i];
    if (i >= 2) out.push_back(path);
  }
  return out;
}

Result<std::vector<DirectoryEntry>> ParseDirectoryPage(std::string_view body) {
  std::vector<DirectoryEntry> entries;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string line(body.substr(start, end - start));
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    if (doc.HasParseError() || !doc.IsObject()) {
      return Status::Internal("malformed directory listing line: " + line.substr(0, 200));
    }
    DirectoryEntry e;
    e.name = StringMember(doc, "name");
    e.type = StringMember(doc, "type");
    e.etag = StringMember(doc, "etag");
    auto size = doc.FindMember("size");
    if (size != doc.MemberEnd() && size->value.IsUint64()) e.size = size->value.GetUint64();
    auto mtime = ParseIsoTime(StringMember(doc, "mtime"));
    if (e.name.empty() || e.type.empty() || !mtime) {
      return Status::Internal("directory listing line without name, type or mtime: " +
                              line.substr(0, 200));
    }
    e.mtime = *mtime;
    entries.push_back(std::move(e));
  }
  return entries;
}

std::optional<system_clock::time_point> ParseHttpDate(std::string_view text) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  char wday[4] = {}, mon[4] = {};
  int d = 0, y = 0, h = 0, mi = 0, s = 0, used = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%3s, %d %3s %d %d:%d:%d GMT%n", wday, &d, mon, &y, &h, &mi, &s,
                  &used) != 7 ||
      static_cast<size_t>(used) != copy.size() || copy[3] != ',') {
    return std::nullopt;
  }
  size_t m = kMonths.find(mon);
  if (std::string_view(mon).size() != 3 || m == std::string_view::npos || m % 3 != 0) {
    return std::nullopt;
  }
  return MakeTime(y, static_cast<unsigned>(m / 3 + 1), static_cast<unsigned>(d), h, mi, s);
}

std::optional<system_clock::time_point> ParseIsoTime(std::string_view text) {
  int y = 0, mon = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mon, &d, &h, &mi, &s, &used) !=
      6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(copy).substr(static_cast<size_t>(used));
  std::chrono::milliseconds fraction{0};
  if (rest.starts_with('.')) {
    size_t digits = 1;
    int ms = 0, scale = 100;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      ms += (rest[digits] - '0') * scale;
      scale /= 10;
      ++digits;
    }
    if (digits == 1) return std::nullopt;
    fraction = std::chrono::milliseconds(ms);
    rest.remove_prefix(digits);
  }
  if (rest != "Z") return std::nullopt;
  auto t = MakeTime(y, static_cast<unsigned>(mon), static_cast<unsigned>(d), h, mi, s);
  if (!t) return std::nullopt;
  return *t + fraction;
}

bool IsDirectory(const http::Response& response) {
  auto it = response.headers.find("content-type");
  return it != response.headers.end() && it->second.find("type=directory") != std::string::npos;
}

Status StatusOf(const http::Response& response, const std::string& what) {
  const long status = response.status;
  if (status >= 200 && status < 300) return Status::Ok();
  std::string code, message;
  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  if (!doc.HasParseError() && doc.IsObject()) {
    code = StringMember(doc, "code");
    message = StringMember(doc, "message");
  } else {
    message = response.body.substr(0, 200);
    for (char& c : message) c = (c == '\n' || c == '\r') ? ' ' : c;
  }
  std::string msg = what + ": HTTP " + std::to_string(status);
  if (!code.empty()) msg += " " + code;
  if (!message.empty()) msg += ": " + message;
  std::string hint = Hint(status, code);
  if (!hint.empty()) msg += " (" + hint + ")";
  if (status == 404 && code != "DirectoryDoesNotExist") return Status::NotFound(msg);
  if (status == 408 || status == 429 || (status >= 500 && status != 501 && status != 507)) {
    return Status::Unavailable(msg);
  }
  if (status == 412) return Status::Aborted(msg);
  return Status::FailedPrecondition(msg);
}

}  // namespace manage::storage::manta
