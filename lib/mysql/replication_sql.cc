#include "mysql/replication_sql.h"

#include "mysql/client.h"
#include "mysql/gtid.h"

namespace manage::mysql {
namespace {

// MySQL releases that renamed statements and variables.
constexpr Version kMySqlReplicaWords{8, 0, 22};    // START/STOP/RESET/SHOW REPLICA
constexpr Version kMySqlChangeSource{8, 0, 23};    // CHANGE REPLICATION SOURCE TO
constexpr Version kMySqlSemiSyncNames{8, 0, 26};   // rpl_semi_sync_source_*
constexpr Version kMySqlPublicKeyOption{8, 0, 4};  // GET_MASTER_PUBLIC_KEY
constexpr Version kMySqlResetGtids{8, 2, 0};       // RESET BINARY LOGS AND GTIDS

bool IsMySqlFrom(const Dialect& d, const Version& v) {
  return d.flavor == Flavor::kMySql && d.version >= v;
}

// "SLAVE" or "REPLICA", as the dialect spells the replica threads.
const char* ReplicaWord(const Dialect& d) {
  return IsMySqlFrom(d, kMySqlReplicaWords) ? "REPLICA" : "SLAVE";
}

Status ValidateSource(const ReplicationSource& s) {
  if (s.host.empty()) return Status::InvalidArgument("replication source host is empty");
  if (s.user.empty()) return Status::InvalidArgument("replication user is empty");
  if (s.port < 1 || s.port > 65535) {
    return Status::InvalidArgument("replication source port out of range: " +
                                   std::to_string(s.port));
  }
  if (s.connect_retry < 1) {
    return Status::InvalidArgument("connect_retry must be at least 1 second");
  }
  return Status::Ok();
}

// Validates a GTID position/set and returns it quoted in canonical form.
Result<std::string> QuotedGtid(const Dialect& d, std::string_view position) {
  Result<std::string> canonical = CanonicalGtid(d.flavor, position);
  if (!canonical.ok()) return canonical.status();
  return SqlQuote(*canonical);
}

}  // namespace

Result<std::string> ChangeSourceSql(const Dialect& dialect, const ReplicationSource& source) {
  MANAGE_RETURN_IF_ERROR(ValidateSource(source));
  bool new_words = IsMySqlFrom(dialect, kMySqlChangeSource);
  std::string p = new_words ? "SOURCE_" : "MASTER_";
  std::string sql = new_words ? "CHANGE REPLICATION SOURCE TO " : "CHANGE MASTER TO ";
  sql += p + "HOST=" + SqlQuote(source.host) + ", " + p + "PORT=" + std::to_string(source.port) +
         ", " + p + "USER=" + SqlQuote(source.user) + ", " + p +
         "PASSWORD=" + SqlQuote(source.password) + ", " + p +
         "CONNECT_RETRY=" + std::to_string(source.connect_retry);
  if (dialect.flavor == Flavor::kMariaDb) {
    sql += ", MASTER_USE_GTID=slave_pos";
  } else {
    sql += ", " + p + "AUTO_POSITION=1";
  }
  if (source.ssl) {
    sql += ", " + p + "SSL=1";
  } else if (IsMySqlFrom(dialect, kMySqlPublicKeyOption)) {
    sql += new_words ? ", GET_SOURCE_PUBLIC_KEY=1" : ", GET_MASTER_PUBLIC_KEY=1";
  }
  return sql;
}

std::string StartReplicaSql(const Dialect& dialect) {
  return std::string("START ") + ReplicaWord(dialect);
}

std::string StopReplicaSql(const Dialect& dialect) {
  return std::string("STOP ") + ReplicaWord(dialect);
}

std::string ResetReplicaSql(const Dialect& dialect) {
  return std::string("RESET ") + ReplicaWord(dialect) + " ALL";
}

std::string ShowReplicaStatusSql(const Dialect& dialect) {
  return std::string("SHOW ") + ReplicaWord(dialect) + " STATUS";
}

Result<std::vector<std::string>> SetGtidPositionSql(const Dialect& dialect,
                                                    std::string_view position) {
  Result<std::string> quoted = QuotedGtid(dialect, position);
  if (!quoted.ok()) return quoted.status();
  if (dialect.flavor == Flavor::kMariaDb) {
    return std::vector<std::string>{"SET GLOBAL gtid_slave_pos=" + *quoted};
  }
  std::string reset =
      IsMySqlFrom(dialect, kMySqlResetGtids) ? "RESET BINARY LOGS AND GTIDS" : "RESET MASTER";
  return std::vector<std::string>{reset, "SET GLOBAL gtid_purged=" + *quoted};
}

std::string ReadGtidStateSql(const Dialect& dialect) {
  if (dialect.flavor == Flavor::kMariaDb) {
    return "SELECT @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_slave_pos";
  }
  return "SELECT @@GLOBAL.gtid_executed";
}

Result<std::string> WaitForGtidSql(const Dialect& dialect, std::string_view position,
                                   std::chrono::seconds timeout) {
  if (timeout.count() < 1) {
    return Status::InvalidArgument("GTID wait timeout must be at least 1 second");
  }
  Result<std::string> quoted = QuotedGtid(dialect, position);
  if (!quoted.ok()) return quoted.status();
  const char* fn =
      dialect.flavor == Flavor::kMariaDb ? "MASTER_GTID_WAIT" : "WAIT_FOR_EXECUTED_GTID_SET";
  return std::string("SELECT ") + fn + "(" + *quoted + ", " + std::to_string(timeout.count()) + ")";
}

std::string SetReadOnlySql(const Dialect& dialect, bool read_only) {
  if (!read_only) return "SET GLOBAL read_only=OFF";
  return dialect.flavor == Flavor::kMySql ? "SET GLOBAL super_read_only=ON"
                                          : "SET GLOBAL read_only=ON";
}

std::string ReadReadOnlySql() { return "SELECT @@GLOBAL.read_only"; }

std::vector<std::string> SemiSyncSql(const Dialect& dialect, const SemiSyncOptions& options) {
  bool new_names = IsMySqlFrom(dialect, kMySqlSemiSyncNames);
  std::string src = new_names ? "rpl_semi_sync_source_" : "rpl_semi_sync_master_";
  std::string rep = new_names ? "rpl_semi_sync_replica_" : "rpl_semi_sync_slave_";
  auto on_off = [](bool on) { return on ? std::string("ON") : std::string("OFF"); };
  return {
      "SET GLOBAL " + src + "wait_point=AFTER_SYNC",
      "SET GLOBAL " + src + "timeout=" + std::to_string(options.timeout.count()),
      "SET GLOBAL " + src + "enabled=" + on_off(options.source),
      "SET GLOBAL " + rep + "enabled=" + on_off(options.replica),
  };
}

ReplicaStatusColumns ReplicaStatusColumnsFor(const Dialect& dialect) {
  ReplicaStatusColumns c;
  c.last_io_errno = "Last_IO_Errno";
  c.last_io_error = "Last_IO_Error";
  c.last_sql_errno = "Last_SQL_Errno";
  c.last_sql_error = "Last_SQL_Error";
  bool new_words = IsMySqlFrom(dialect, kMySqlReplicaWords);
  std::string rep = new_words ? "Replica_" : "Slave_";
  std::string src = new_words ? "Source" : "Master";
  c.io_running = rep + "IO_Running";
  c.sql_running = rep + "SQL_Running";
  c.seconds_behind = "Seconds_Behind_" + src;
  c.source_host = src + "_Host";
  c.source_port = src + "_Port";
  if (dialect.flavor == Flavor::kMariaDb) {
    c.retrieved = "Gtid_IO_Pos";
  } else {
    c.retrieved = "Retrieved_Gtid_Set";
    c.executed = "Executed_Gtid_Set";
  }
  return c;
}

}  // namespace manage::mysql
