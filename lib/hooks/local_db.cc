#include "hooks/local_db.h"

#include "mysql/replica_status.h"

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

Status EnsureReadOnly(const Deps& deps, LocalDb& db, bool on, const std::string& why) {
  auto current = mysql::ReadReadOnly(*db.conn);
  if (!current.ok()) return current.status();
  if (*current == on) return Status::Ok();
  MANAGE_RETURN_IF_ERROR(mysql::SetReadOnly(*db.conn, db.dialect, on));
  if (on) {
    deps.log.Warn("read_only ON", {{"reason", why}});
  } else {
    deps.log.Info("read_only OFF", {{"reason", why}});
  }
  return Status::Ok();
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
