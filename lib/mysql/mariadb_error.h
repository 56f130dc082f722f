// The mapping from a MariaDB Connector/C error to a Status, and the one way
// lib/mysql opens a Connector/C handle. Internal to lib/mysql; declared here
// so the table can be tested without a server.
#pragma once

#include <memory>
#include <string_view>

#include "core/status.h"
#include "mysql/client.h"

struct st_mysql;  // Connector/C's MYSQL

namespace manage::mysql::internal {

// Unavailable when the server could not be reached or the connection was lost
// (2002, 2003, 2005, 2006, 2013, 2055) or the server refused for now (1040 too
// many connections, 1053 shutting down); FailedPrecondition otherwise, including
// 1045 access denied. The message is "(code) text" with every occurrence of
// `password` masked and the statement excerpt of a syntax error removed, since
// it could hold a credential.
Status ErrorToStatus(unsigned int code, std::string_view text, std::string_view password);

using MysqlHandle = std::unique_ptr<st_mysql, void (*)(st_mysql*)>;
// A connected handle with `options` applied (timeouts, protocol, utf8mb4, no
// automatic reconnect); the connection error otherwise, as ErrorToStatus maps it.
Result<MysqlHandle> OpenHandle(const ConnectOptions& options);

}  // namespace manage::mysql::internal
