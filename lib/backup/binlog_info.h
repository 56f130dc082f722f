// Where a snapshot sits in the primary's binlog, as mariabackup reports it:
// on stderr during --backup, and in the binlog info file of the unpacked
// backup. Pure parsers; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::backup {

struct BinlogPosition {
  std::string file;  // "mysql-bin.000002"
  uint64_t position = 0;
  std::string gtid;  // "0-1-4" (domains separated by ','); empty if none
};

// MariaDB 10.11 writes xtrabackup_binlog_info; later releases renamed it.
inline constexpr const char* kBinlogInfoFiles[] = {"mariadb_backup_binlog_info",
                                                   "xtrabackup_binlog_info"};

// Finds the last "MySQL binlog position: filename 'F', position 'P', GTID of
// the last change 'G'" line (the GTID part optional) in mariabackup's stderr.
// NotFound when there is none; InvalidArgument when it is malformed.
Result<BinlogPosition> ParseBackupLog(std::string_view stderr_text);

// Parses the binlog info file: "F<TAB>P<TAB>G\n" (G optional).
// InvalidArgument when malformed.
Result<BinlogPosition> ParseBinlogInfoFile(std::string_view contents);

}  // namespace manage::backup
