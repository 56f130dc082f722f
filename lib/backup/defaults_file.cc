#include "backup/defaults_file.h"

namespace manage::backup {

std::string OptionFileQuote(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

Result<std::string> MariabackupDefaultsFile(const BackupCredentials& creds) {
  if (creds.user.empty()) return Status::InvalidArgument("the backup user is empty");
  for (const std::string* v : {&creds.user, &creds.password, &creds.socket, &creds.host}) {
    if (v->find('\0') != std::string::npos) {
      return Status::InvalidArgument("a backup credential contains a NUL byte");
    }
  }
  std::string text = "[mariabackup]\n";
  text += "user=" + OptionFileQuote(creds.user) + "\n";
  text += "password=" + OptionFileQuote(creds.password) + "\n";
  if (!creds.socket.empty()) {
    text += "socket=" + OptionFileQuote(creds.socket) + "\n";
  } else {
    if (!creds.host.empty()) text += "host=" + OptionFileQuote(creds.host) + "\n";
    if (creds.port > 0) text += "port=" + std::to_string(creds.port) + "\n";
  }
  return text;
}

}  // namespace manage::backup
