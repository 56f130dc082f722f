// LocalDb: a connection to this node's own mysqld over its unix socket as root
// (unix_socket authentication: manage runs as OS root in the container), with
// the server's dialect detected once.
#pragma once

#include <memory>

#include "hooks/deps.h"
#include "mysql/client.h"
#include "mysql/flavor.h"

namespace manage::hooks {

struct LocalDb {
  std::unique_ptr<mysql::Connection> conn;
  mysql::Dialect dialect;
};

// Unavailable when mysqld is not accepting connections yet; FailedPrecondition
// when it is MySQL (the hooks use MariaDB's tools and variables).
Result<LocalDb> ConnectLocal(const Deps& deps,
                             std::chrono::seconds connect_timeout = std::chrono::seconds(3));

// Makes read_only equal to `on`, writing only when it differs (health runs
// every few seconds: a steady pass reads, never writes). `why` is logged when
// it changes. Turning it on fences the server: client connections (not
// replication) are killed, so no session keeps writing or waiting for a
// semi-sync acknowledgement, and the application reconnects to the primary;
// it takes at most kFenceBudget, else fails. Turning it off asks
// deps.may_unfence first, when set (DeadlineExceeded if it says no).
Status EnsureReadOnly(const Deps& deps, LocalDb& db, bool on, const std::string& why);

// Makes mysqld writable, for `lease` from now on its own clock: it stays
// read_only=OFF, but once the lease has run out mysqld refuses every new
// connection of a user that read_only would stop (init_connect, below) until
// a later call extends it, or the node is fenced. A primary frozen past its
// lease (SIGSTOP, a stalled VM) therefore lets no new client write, nor even
// see read_only=0, in the moment between resuming and its next health pass.
// manage owns init_connect. Asks deps.may_unfence first, like EnsureReadOnly.
Status MakeWritable(const Deps& deps, LocalDb& db, std::chrono::milliseconds lease,
                    const std::string& why);

// The init_connect that enforces a write lease ending at `until_sql`, an SQL
// expression of the server's time in seconds (@@timestamp).
std::string WriteLeaseSql(const std::string& until_sql);

// Options for connecting to another node over TCP as the replication user.
mysql::ConnectOptions RemoteOptions(const Config& config, const std::string& host, int port);

}  // namespace manage::hooks
