// MariaDbConnector: Connection over MariaDB Connector/C. Every Connector/C error
// becomes a Status in internal::ErrorToStatus and nowhere else.
#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "mysql/client.h"
#include "mysql/mariadb_error.h"

namespace manage::mysql {
namespace internal {
namespace {

bool IsUnavailable(unsigned int code) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
      return true;
    default:
      return false;
  }
}

std::string Redact(std::string_view text, std::string_view password, unsigned int code) {
  std::string out(text);
  if (code == ER_PARSE_ERROR || code == ER_SYNTAX_ERROR) {
    size_t near = out.find(" near '");
    if (near != std::string::npos) out = out.substr(0, near) + " (statement text omitted)";
  }
  if (password.empty()) return out;
  for (size_t pos = out.find(password); pos != std::string::npos;
       pos = out.find(password, pos + 4)) {
    out.replace(pos, password.size(), "****");
  }
  return out;
}

}  // namespace

Status ErrorToStatus(unsigned int code, std::string_view text, std::string_view password) {
  std::string msg = fmt::format("({}) {}", code, Redact(text, password, code));
  if (IsUnavailable(code)) return Status::Unavailable(std::move(msg));
  return Status::FailedPrecondition(std::move(msg));
}

}  // namespace internal

namespace {

using MysqlPtr = internal::MysqlHandle;
using ResultPtr = std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)>;

Status LastError(MYSQL* mysql, std::string_view password) {
  return internal::ErrorToStatus(mysql_errno(mysql), mysql_error(mysql), password);
}

unsigned int Seconds(std::chrono::seconds s) {
  return static_cast<unsigned int>(std::max<std::chrono::seconds::rep>(1, s.count()));
}

Status SetOptions(MYSQL* mysql, const ConnectOptions& o) {
  unsigned int connect = Seconds(o.connect_timeout);
  unsigned int read = Seconds(o.read_timeout);
  unsigned int write = Seconds(o.write_timeout);
  unsigned int protocol = o.socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  my_bool reconnect = 0;
  bool failed = mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect) != 0 ||
                mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &read) != 0 ||
                mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &write) != 0 ||
                mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol) != 0 ||
                mysql_options(mysql, MYSQL_OPT_RECONNECT, &reconnect) != 0 ||
                mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0;
  if (failed) return Status::Internal("cannot set Connector/C options");
  return Status::Ok();
}

std::string Where(const ConnectOptions& o) {
  std::string where = o.socket.empty() ? o.host + ":" + std::to_string(o.port) : o.socket;
  return where + " as " + o.user;
}

class MariaDbConnection final : public Connection {
 public:
  MariaDbConnection(MysqlPtr mysql, std::string password)
      : mysql_(std::move(mysql)),
        password_(std::move(password)),
        version_(mysql_get_server_info(mysql_.get())) {}

  Result<QueryResult> Query(std::string_view sql) override {
    if (mysql_real_query(mysql_.get(), sql.data(), sql.size()) != 0) return Error();
    QueryResult out;
    Status first = ReadResultSet(&out);
    Status rest = DrainResults();
    if (!first.ok()) return first;
    if (!rest.ok()) return rest;
    return out;
  }

  Status Execute(std::string_view sql) override { return Query(sql).status(); }

  std::string ServerVersion() const override { return version_; }

 private:
  Status Error() const { return LastError(mysql_.get(), password_); }

  // Stores the current result set, if the statement produced one, in `out`.
  Status ReadResultSet(QueryResult* out) {
    ResultPtr res(mysql_store_result(mysql_.get()), &mysql_free_result);
    if (!res) return mysql_field_count(mysql_.get()) == 0 ? Status::Ok() : Error();
    unsigned int n = mysql_num_fields(res.get());
    MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
    for (unsigned int i = 0; i < n; ++i) {
      out->columns.emplace_back(fields[i].name, fields[i].name_length);
    }
    while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
      unsigned long* lengths = mysql_fetch_lengths(res.get());
      Row values(n);
      for (unsigned int i = 0; i < n; ++i) {
        if (row[i] != nullptr) values[i] = std::string(row[i], lengths[i]);
      }
      out->rows.push_back(std::move(values));
    }
    return Status::Ok();
  }

  // Reads and frees any further result sets so the connection stays usable.
  Status DrainResults() {
    while (true) {
      int rc = mysql_next_result(mysql_.get());
      if (rc < 0) return Status::Ok();
      if (rc > 0) return Error();
      QueryResult ignored;
      MANAGE_RETURN_IF_ERROR(ReadResultSet(&ignored));
    }
  }

  MysqlPtr mysql_;
  std::string password_;
  std::string version_;
};

}  // namespace

// mysql_init initialises the library on first use, which is not thread-safe.
MariaDbConnector::MariaDbConnector() { (void)mysql_library_init(0, nullptr, nullptr); }

namespace internal {

Result<MysqlHandle> OpenHandle(const ConnectOptions& options) {
  MysqlHandle mysql(mysql_init(nullptr), &mysql_close);
  if (!mysql) return Status::Internal("mysql_init failed: out of memory");
  MANAGE_RETURN_IF_ERROR(SetOptions(mysql.get(), options));
  bool socket = !options.socket.empty();
  MYSQL* ok = mysql_real_connect(mysql.get(), socket ? "localhost" : options.host.c_str(),
                                 options.user.c_str(), options.password.c_str(), nullptr,
                                 socket ? 0 : static_cast<unsigned int>(options.port),
                                 socket ? options.socket.c_str() : nullptr, 0);
  if (ok == nullptr) {
    return LastError(mysql.get(), options.password).Annotate("connect to " + Where(options));
  }
  return mysql;
}

}  // namespace internal

Result<std::unique_ptr<Connection>> MariaDbConnector::Connect(const ConnectOptions& options) {
  auto mysql = internal::OpenHandle(options);
  if (!mysql.ok()) return mysql.status();
  return std::unique_ptr<Connection>(
      std::make_unique<MariaDbConnection>(std::move(*mysql), options.password));
}

}  // namespace manage::mysql
