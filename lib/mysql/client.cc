// The parts of client.h that do not need Connector/C.
#include "mysql/client.h"

namespace manage::mysql {

std::optional<std::string> QueryResult::Get(size_t row, std::string_view name) const {
  if (row >= rows.size()) return std::nullopt;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) {
      return i < rows[row].size() ? rows[row][i] : std::nullopt;
    }
  }
  return std::nullopt;
}

std::string SqlQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  for (char c : text) {
    switch (c) {
      case '\0':
        out += "\\0";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\x1a':
        out += "\\Z";
        break;
      case '\'':
      case '"':
      case '\\':
        out.push_back('\\');
        out.push_back(c);
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace manage::mysql
