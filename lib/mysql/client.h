// MySQL/MariaDB client: a Connection runs SQL and returns typed rows; a Connector
// opens Connections. MariaDbConnector uses MariaDB Connector/C; tests use
// test/fakes/fake_mysql.h. A Connection is not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace manage::mysql {

struct ConnectOptions {
  std::string socket;  // used when non-empty, else host:port over TCP
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user = "root";
  std::string password;
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
};

using Row = std::vector<std::optional<std::string>>;  // NULL is nullopt

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  // The value of column `name` in row `row`; nullopt when NULL, missing column or row.
  std::optional<std::string> Get(size_t row, std::string_view name) const;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Runs one statement and returns its rows (none for statements without a result).
  // Server errors are FailedPrecondition with "(errno) message"; a lost
  // connection is Unavailable.
  virtual Result<QueryResult> Query(std::string_view sql) = 0;
  // Runs one statement, discarding any result.
  virtual Status Execute(std::string_view sql) = 0;
  // e.g. "10.11.6-MariaDB-0+deb12u1-log"
  virtual std::string ServerVersion() const = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Unavailable when the server cannot be reached; FailedPrecondition on
  // authentication failure (the message never contains the password).
  virtual Result<std::unique_ptr<Connection>> Connect(const ConnectOptions& options) = 0;
};

// Connect may be called from several threads at once (a health pass and its
// fence watchdog): the library is initialised when the connector is made.
class MariaDbConnector final : public Connector {
 public:
  MariaDbConnector();
  Result<std::unique_ptr<Connection>> Connect(const ConnectOptions& options) override;
};

// `text` as a single-quoted SQL string literal: ' " and \ are backslash-escaped,
// NUL, LF, CR and Ctrl-Z become \0 \n \r \Z. Needs no connection; assumes the
// server's sql_mode lacks NO_BACKSLASH_ESCAPES (the default).
std::string SqlQuote(std::string_view text);

}  // namespace manage::mysql
