#include "hooks/local_db.h"

namespace manage::hooks {

Result<LocalDb> ConnectLocal(const Deps& deps) {
  mysql::ConnectOptions opts;
  opts.socket = deps.config->mysql.socket;
  opts.user = "root";
  opts.connect_timeout = std::chrono::seconds(3);
  auto conn = deps.connector->Connect(opts);
  if (!conn.ok()) return conn.status().Annotate("connecting to local mysqld");
  auto dialect = mysql::DetectDialect((*conn)->ServerVersion());
  if (!dialect.ok()) return dialect.status();
  return LocalDb{std::move(*conn), *dialect};
}

mysql::ConnectOptions RemoteOptions(const Config& config, const std::string& host, int port) {
  mysql::ConnectOptions opts;
  opts.host = host;
  opts.port = port;
  opts.user = config.mysql.repl_user;
  opts.password = config.mysql.repl_password;
  opts.connect_timeout = std::chrono::seconds(2);
  opts.read_timeout = std::chrono::seconds(5);
  return opts;
}

}  // namespace manage::hooks
