// MariaDbBinlogDumper: a GTID binlog dump over Connector/C's replication API.
// The session variables set before COM_BINLOG_DUMP are those a MariaDB
// replica sets: it understands checksums (so events arrive exactly as stored,
// CRC-32 included), GTIDs (capability 4), and the position to start after.
#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
// mariadb_rpl.h needs mysql.h first.
#include <mariadb_rpl.h>

#include "mysql/binlog_stream.h"
#include "mysql/gtid.h"
#include "mysql/mariadb_error.h"

namespace manage::mysql {
namespace {

constexpr unsigned int kMasterFatalErrorReadingBinlog =
    1236;  // ER_MASTER_FATAL_ERROR_READING_BINLOG

struct RplClose {
  void operator()(MARIADB_RPL* rpl) const { mariadb_rpl_close(rpl); }
};
struct EventFree {
  void operator()(MARIADB_RPL_EVENT* e) const { mariadb_free_rpl_event(e); }
};

Status HandleError(MYSQL* mysql, const std::string& password) {
  unsigned int code = mysql_errno(mysql);
  if (code == kMasterFatalErrorReadingBinlog) return DumpRefusalToStatus(code, mysql_error(mysql));
  return internal::ErrorToStatus(code, mysql_error(mysql), password);
}

class MariaDbBinlogStream final : public BinlogStream {
 public:
  MariaDbBinlogStream(internal::MysqlHandle mysql, std::string password)
      : mysql_(std::move(mysql)), password_(std::move(password)) {}

  Status Start(const BinlogDumpOptions& o) {
    const std::string statements[] = {
        "SET @master_binlog_checksum = @@global.binlog_checksum",
        "SET @mariadb_slave_capability = 4",
        "SET @slave_connect_state = " + SqlQuote(o.start),
        "SET @slave_gtid_strict_mode = 1",
        "SET @slave_gtid_ignore_duplicates = 0",
        fmt::format("SET @master_heartbeat_period = {}",
                    static_cast<uint64_t>(o.heartbeat.count()) * 1000000ULL),
    };
    for (const std::string& sql : statements) {
      if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) {
        return HandleError(mysql_.get(), password_).Annotate("binlog dump setup");
      }
    }
    rpl_.reset(mariadb_rpl_init(mysql_.get()));
    if (!rpl_) return Status::Internal("mariadb_rpl_init failed");
    unsigned int flags = MARIADB_RPL_BINLOG_SEND_ANNOTATE_ROWS;
    if (!o.follow) flags |= MARIADB_RPL_BINLOG_DUMP_NON_BLOCK;
    unsigned long start = 4;
    if (mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_SERVER_ID, o.dump_server_id) != 0 ||
        mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_START, start) != 0 ||
        mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_FILENAME, "", static_cast<size_t>(0)) != 0 ||
        mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_FLAGS, flags) != 0) {
      return Status::Internal("cannot set the binlog dump options");
    }
    if (mariadb_rpl_open(rpl_.get()) != 0) {
      return HandleError(mysql_.get(), password_).Annotate("binlog dump");
    }
    return Status::Ok();
  }

  Result<std::optional<std::string_view>> Next() override {
    MARIADB_RPL_EVENT* next = mariadb_rpl_fetch(rpl_.get(), event_.release());
    event_.reset(next);
    if (next == nullptr) {
      if (mysql_errno(mysql_.get()) == 0) return std::optional<std::string_view>();
      return HandleError(mysql_.get(), password_).Annotate("binlog dump");
    }
    if (next->raw_data == nullptr || next->raw_data_ofs > next->raw_data_size) {
      return Status::Internal("binlog dump: an event without its bytes");
    }
    // raw_data is the network packet: its first byte is the OK marker.
    return std::optional<std::string_view>(
        std::string_view(reinterpret_cast<const char*>(next->raw_data) + next->raw_data_ofs,
                         next->raw_data_size - next->raw_data_ofs));
  }

 private:
  internal::MysqlHandle mysql_;  // declared first: destroyed after rpl_
  std::string password_;
  std::unique_ptr<MARIADB_RPL, RplClose> rpl_;
  std::unique_ptr<MARIADB_RPL_EVENT, EventFree> event_;
};

}  // namespace

Status DumpRefusalToStatus(unsigned int code, std::string_view text) {
  std::string msg = fmt::format("({}) {}", code, text);
  if (text.find("purged") != std::string_view::npos ||
      text.find("Could not find GTID state") != std::string_view::npos) {
    return Status::NotFound(std::move(msg));
  }
  if (text.find("not in the master's binlog") != std::string_view::npos ||
      text.find("diverged") != std::string_view::npos) {
    return Status::FailedPrecondition(std::move(msg));
  }
  return Status::Unavailable(std::move(msg));
}

Result<std::unique_ptr<BinlogStream>> MariaDbBinlogDumper::Open(const BinlogDumpOptions& options) {
  ConnectOptions connect = options.connect;
  // A quiet server still sends a heartbeat every `heartbeat`: a read that
  // waits much longer means the connection is gone.
  connect.read_timeout = std::max<std::chrono::seconds>(
      connect.read_timeout,
      std::chrono::duration_cast<std::chrono::seconds>(options.heartbeat * 5) +
          std::chrono::seconds(1));
  auto handle = internal::OpenHandle(connect);
  if (!handle.ok()) return handle.status();
  auto stream = std::make_unique<MariaDbBinlogStream>(std::move(*handle), connect.password);
  MANAGE_RETURN_IF_ERROR(stream->Start(options));
  return std::unique_ptr<BinlogStream>(std::move(stream));
}

Result<std::string> OldestBinlogState(Connection& conn) {
  auto logs = conn.Query("SHOW BINARY LOGS");
  if (!logs.ok()) return logs.status();
  auto first = logs->Get(0, "Log_name");
  if (!first) return Status::FailedPrecondition("the server has no binary log (log_bin is off)");
  auto events = conn.Query("SHOW BINLOG EVENTS IN " + SqlQuote(*first) + " LIMIT 4");
  if (!events.ok()) return events.status();
  for (size_t i = 0; i < events->rows.size(); ++i) {
    if (events->Get(i, "Event_type").value_or("") != "Gtid_list") continue;
    std::string info = events->Get(i, "Info").value_or("");
    if (info.size() < 2 || info.front() != '[' || info.back() != ']') {
      return Status::Internal("unexpected Gtid_list in " + *first + ": " + info);
    }
    auto position = PositionOfState(info.substr(1, info.size() - 2));
    if (!position.ok()) return position.status().Annotate("Gtid_list of " + *first);
    return position->ToString();
  }
  return Status::Internal("no Gtid_list event at the start of " + *first);
}

}  // namespace manage::mysql
