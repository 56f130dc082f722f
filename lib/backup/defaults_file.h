// The option file that gives mariabackup its credentials, so that no password
// ever appears on a command line. The caller writes it with mode 0600, passes
// it as the first argument (--defaults-extra-file=...) and deletes it after.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::backup {

struct BackupCredentials {
  std::string user;
  std::string password;
  std::string socket;  // used when non-empty; else host and port
  std::string host;
  int port = 0;  // 0: the default
};

// "[mariabackup]\nuser=\"...\"\npassword=\"...\"\nsocket=\"...\"\n" with every
// value quoted and escaped as MariaDB option files expect. InvalidArgument
// when the user is empty or a value contains a NUL byte.
Result<std::string> MariabackupDefaultsFile(const BackupCredentials& creds);

// `value` in double quotes with \, ", ' and line breaks escaped, for option files.
std::string OptionFileQuote(std::string_view value);

}  // namespace manage::backup
