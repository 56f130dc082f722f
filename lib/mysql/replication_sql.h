// Statements that set up, run and inspect GTID replication, spelled for the
// server's Dialect: MariaDB keeps the MASTER/SLAVE words; MySQL 8.0.22+ says
// REPLICA, 8.0.23+ says CHANGE REPLICATION SOURCE, 8.2+ RESET BINARY LOGS AND
// GTIDS. Pure functions; GTID text is validated and written canonically, every
// other string is quoted with SqlQuote. Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "mysql/flavor.h"

namespace manage::mysql {

// The server a replica copies from.
struct ReplicationSource {
  std::string host;
  int port = 3306;
  std::string user;
  std::string password;
  int connect_retry = 10;  // seconds between reconnection attempts
  bool ssl = false;
};

// Points the replica at `source` with GTID positioning: MariaDB
// MASTER_USE_GTID=slave_pos, MySQL SOURCE_AUTO_POSITION=1 (MASTER_AUTO_POSITION
// before 8.0.23). On MySQL without ssl it also asks for the source's public key,
// which caching_sha2_password needs over plain TCP. The result holds the
// password: never log it. InvalidArgument for an empty host or user, a port
// outside 1..65535 or connect_retry < 1.
Result<std::string> ChangeSourceSql(const Dialect& dialect, const ReplicationSource& source);

std::string StartReplicaSql(const Dialect& dialect);  // START SLAVE | START REPLICA
std::string StopReplicaSql(const Dialect& dialect);   // STOP SLAVE | STOP REPLICA
std::string ResetReplicaSql(const Dialect& dialect);  // RESET SLAVE ALL | RESET REPLICA ALL
std::string ShowReplicaStatusSql(const Dialect& dialect);

// Statements, run in order with replication stopped, that make a freshly
// restored server resume replication after `position` (the GTID state recorded
// with the backup). MariaDB: SET GLOBAL gtid_slave_pos. MySQL: gtid_purged can
// only be set while gtid_executed is empty, so this first runs RESET MASTER
// (RESET BINARY LOGS AND GTIDS on 8.2+), which deletes this server's binary
// logs and GTID history; only use it on a server that was just restored.
// InvalidArgument when `position` is not a GTID position/set of the flavour.
Result<std::vector<std::string>> SetGtidPositionSql(const Dialect& dialect,
                                                    std::string_view position);

// One row. MariaDB columns: @@gtid_current_pos, @@gtid_binlog_pos,
// @@gtid_slave_pos. MySQL: @@gtid_executed.
std::string ReadGtidStateSql(const Dialect& dialect);

// One row, one integer column: MariaDB MASTER_GTID_WAIT (0 = reached,
// -1 = timed out; it waits on gtid_slave_pos, so only a replica's applied
// transactions count), MySQL WAIT_FOR_EXECUTED_GTID_SET (0 = reached,
// 1 = timed out). InvalidArgument for a malformed position or timeout < 1s.
Result<std::string> WaitForGtidSql(const Dialect& dialect, std::string_view position,
                                   std::chrono::seconds timeout);

// MariaDB: SET GLOBAL read_only=ON|OFF. MySQL turns on super_read_only (which
// implies read_only and also stops SUPER users) and turns off read_only (which
// clears super_read_only).
std::string SetReadOnlySql(const Dialect& dialect, bool read_only);
// One row, one column: 1 when read_only is on, else 0.
std::string ReadReadOnlySql();

struct SemiSyncOptions {
  bool source = false;                       // wait for a replica's ack before a commit returns
  bool replica = false;                      // ack the transactions received from the source
  std::chrono::milliseconds timeout{10000};  // then fall back to asynchronous
};

// Statements that configure semi-synchronous replication with the AFTER_SYNC
// wait point. MariaDB 10.3+ has it built in (rpl_semi_sync_master_*/slave_*);
// MySQL needs the semisync plugins loaded and names the variables
// rpl_semi_sync_source_*/replica_* from 8.0.26. A changed replica setting takes
// effect when the replica's IO thread restarts.
std::vector<std::string> SemiSyncSql(const Dialect& dialect, const SemiSyncOptions& options);

// The SHOW ... STATUS column names for a dialect. MariaDB and MySQL before
// 8.0.22 use Slave_/Master_ names, MySQL 8.0.22+ Replica_/Source_ names.
struct ReplicaStatusColumns {
  std::string io_running;      // Slave_IO_Running | Replica_IO_Running
  std::string sql_running;     // Slave_SQL_Running | Replica_SQL_Running
  std::string seconds_behind;  // Seconds_Behind_Master | Seconds_Behind_Source
  std::string source_host;     // Master_Host | Source_Host
  std::string source_port;     // Master_Port | Source_Port
  std::string last_io_errno;   // Last_IO_Errno
  std::string last_io_error;   // Last_IO_Error
  std::string last_sql_errno;  // Last_SQL_Errno
  std::string last_sql_error;  // Last_SQL_Error
  std::string retrieved;       // Gtid_IO_Pos (MariaDB) | Retrieved_Gtid_Set (MySQL)
  std::string executed;        // "" (MariaDB) | Executed_Gtid_Set (MySQL)
};
ReplicaStatusColumns ReplicaStatusColumnsFor(const Dialect& dialect);

}  // namespace manage::mysql
