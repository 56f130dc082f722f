// What a server says about its own replication: the replica threads (SHOW
// SLAVE/REPLICA STATUS), its GTID state and read_only. ParseReplicaStatus is
// pure; the Read*/Set*/Wait* helpers run the statements of replication_sql.h
// on a caller-owned Connection and inherit its (lack of) thread-safety.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mysql/client.h"
#include "mysql/flavor.h"

namespace manage::mysql {

// A replica thread's state as SHOW ... STATUS prints it.
enum class ThreadState { kNo, kYes, kConnecting };
// "Yes" and "Connecting" map to their values; anything else (including "No",
// "" and NULL) to kNo.
ThreadState ParseThreadState(std::optional<std::string> text);
const char* ThreadStateName(ThreadState state);  // "Yes", "No", "Connecting"

struct ReplicaStatus {
  bool configured = false;  // false when the server is not a replica at all
  ThreadState io_running = ThreadState::kNo;
  ThreadState sql_running = ThreadState::kNo;
  std::optional<int64_t> seconds_behind;  // NULL while a thread is stopped
  std::string source_host;
  int source_port = 0;
  int last_io_errno = 0;
  std::string last_io_error;
  int last_sql_errno = 0;
  std::string last_sql_error;
  // Received GTIDs: MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set.
  std::string gtid_io_pos;
  // MySQL Executed_Gtid_Set; "" on MariaDB (read gtid_slave_pos instead).
  std::string executed;

  // Both threads are running ("Yes").
  bool Running() const {
    return io_running == ThreadState::kYes && sql_running == ThreadState::kYes;
  }
};

// Reads the first row (the default connection/channel) of a SHOW ... STATUS
// result. Column names of either spelling are accepted, preferring the
// dialect's. An empty result is configured=false. Internal when a required
// column (IO/SQL running, source host) is missing or a number is malformed.
Result<ReplicaStatus> ParseReplicaStatus(const QueryResult& result, const Dialect& dialect);

// The server's GTID state. MariaDB: executed is @@gtid_current_pos, with
// @@gtid_binlog_pos and @@gtid_slave_pos alongside. MySQL: executed is
// @@gtid_executed (newlines removed); the other fields are "".
struct GtidState {
  std::string executed;
  std::string binlog_pos;
  std::string slave_pos;
};

// Query errors as Connection::Query; Internal when the reply has no row.
Result<GtidState> ReadGtidState(Connection& conn, const Dialect& dialect);
Result<ReplicaStatus> ReadReplicaStatus(Connection& conn, const Dialect& dialect);
Result<bool> ReadReadOnly(Connection& conn);
Status SetReadOnly(Connection& conn, const Dialect& dialect, bool read_only);

// Waits until the server has applied `position` (for MariaDB: through its
// replication threads, see WaitForGtidSql). DeadlineExceeded when `timeout`
// passes first; InvalidArgument for a malformed position; Internal for an
// unexpected reply. The connection's read timeout must exceed `timeout`.
Status WaitForGtid(Connection& conn, const Dialect& dialect, std::string_view position,
                   std::chrono::seconds timeout);

}  // namespace manage::mysql
