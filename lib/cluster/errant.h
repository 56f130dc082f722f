// Errant transactions: what a node has that its (would-be) primary cannot have,
// as pure functions over GTID text (MariaDB), table-tested in
// test/unit/cluster/errant_test.cc. The I/O around them is in lib/hooks/errant.cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "mysql/gtid.h"

namespace manage::cluster {

// Transactions of server `server_id` in `domain_id` after `after_seqno`, up to
// `last_seqno`, that a replica has and its primary cannot have.
struct ErrantRange {
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint64_t after_seqno = 0;
  uint64_t last_seqno = 0;
  bool operator==(const ErrantRange&) const = default;
};

// MariaDB. A replica's position (gtid_current_pos) against its would-be
// primary's gtid_current_pos and gtid_binlog_state (the last seqno it has from
// each server in each domain). In each domain, the replica's last GTID d-s-n is
// errant when the primary's position is behind n, or when the primary's
// binlog state shows server s only up to a seqno below n (the primary's history
// moved on without that server's later transactions). A server the primary's
// state does not mention cannot be judged here; MariaDB's own check at connect
// time still applies.
Result<std::vector<ErrantRange>> FindErrant(std::string_view replica_pos,
                                            std::string_view primary_pos,
                                            std::string_view primary_binlog_state);

std::string FormatErrant(const std::vector<ErrantRange>& ranges);

// The GTID of a binlog event from SHOW BINLOG EVENTS' Info column: "BEGIN GTID
// 0-1-5" or "GTID 0-1-5" (DDL); nullopt for anything else.
std::optional<mysql::MariaDbGtid> ParseBinlogEventGtid(std::string_view info);

}  // namespace manage::cluster
