#include "backup/binlog_info.h"

#include <vector>

namespace manage::backup {
namespace {

constexpr std::string_view kMarker = "MySQL binlog position: ";

bool ParsePosition(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// The value quoted after `key` ("filename '" ... "'") at the start of `*rest`,
// which is advanced past it. False when `*rest` does not start that way.
bool TakeQuoted(std::string_view* rest, std::string_view key, std::string_view* value) {
  if (!rest->starts_with(key)) return false;
  rest->remove_prefix(key.size());
  size_t end = rest->find('\'');
  if (end == std::string_view::npos) return false;
  *value = rest->substr(0, end);
  rest->remove_prefix(end + 1);
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<BinlogPosition> ParseBackupLog(std::string_view stderr_text) {
  size_t at = stderr_text.rfind(kMarker);
  if (at == std::string_view::npos) {
    return Status::NotFound("mariabackup did not report a binlog position");
  }
  std::string_view rest = stderr_text.substr(at + kMarker.size());
  rest = rest.substr(0, rest.find('\n'));
  std::string_view file, position, gtid;
  if (!TakeQuoted(&rest, "filename '", &file) || !TakeQuoted(&rest, ", position '", &position)) {
    return Status::InvalidArgument("cannot parse mariabackup's binlog position line: " +
                                   std::string(rest));
  }
  TakeQuoted(&rest, ", GTID of the last change '", &gtid);
  BinlogPosition pos{std::string(file), 0, std::string(gtid)};
  if (file.empty() || !ParsePosition(position, &pos.position)) {
    return Status::InvalidArgument("bad binlog position '" + std::string(position) +
                                   "' for file '" + std::string(file) + "'");
  }
  return pos;
}

Result<BinlogPosition> ParseBinlogInfoFile(std::string_view contents) {
  std::string_view text = TrimSpace(contents);
  std::vector<std::string_view> fields;
  for (size_t tab = text.find('\t'); !text.empty(); tab = text.find('\t')) {
    fields.push_back(text.substr(0, tab));
    if (tab == std::string_view::npos) break;
    text.remove_prefix(tab + 1);
  }
  BinlogPosition pos;
  if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() ||
      !ParsePosition(fields[1], &pos.position)) {
    return Status::InvalidArgument("cannot parse binlog info file: '" + std::string(contents) +
                                   "'");
  }
  pos.file = std::string(fields[0]);
  if (fields.size() == 3) {
    // Several GTID domains may be written as "0-1-4,\n1-2-3"; drop the breaks.
    for (char c : fields[2]) {
      if (c != '\n' && c != '\r' && c != ' ') pos.gtid += c;
    }
  }
  return pos;
}

}  // namespace manage::backup
