// Errant transactions: what a node has that its (would-be) primary cannot have,
// as pure functions over GTID text (MariaDB), table-tested in
// test/unit/cluster/errant_test.cc. The I/O around them is in lib/hooks/errant.cc.
#pragma once

#include <functional>
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

// MariaDB. A node's position (gtid_current_pos) against its would-be
// primary's gtid_current_pos, gtid_binlog_state (the last seqno it has from
// each server in each domain) and gtid_slave_pos. The rule is MariaDB's own
// when a replica connects (sql_repl.cc, check_slave_start_position): the
// node's last GTID d-s-n in each domain is fine when the primary's binlog has
// server s in domain d up to n or later, or when d-s-n is exactly where the
// primary stopped replicating itself (restored from a snapshot, nothing of s
// binlogged since); otherwise it is errant: the primary's history moved on
// without it, or never saw server s at all.
Result<std::vector<ErrantRange>> FindErrant(std::string_view replica_pos,
                                            std::string_view primary_pos,
                                            std::string_view primary_binlog_state,
                                            std::string_view primary_slave_pos);

// MariaDB. A replica's own writes, from its state alone: in each domain where
// gtid_current_pos differs from gtid_slave_pos, it binlogged transactions of
// its own after what it replicated (MariaDB's definition of gtid_current_pos).
// Only meaningful on a node that set gtid_slave_pos when it set up
// replication, as every replica manage configures does.
Result<std::vector<ErrantRange>> LocalErrant(std::string_view current_pos,
                                             std::string_view slave_pos);

std::string FormatErrant(const std::vector<ErrantRange>& ranges);

// Whether a source (the cluster) has a transaction.
using HasGtid = std::function<bool(const mysql::MariaDbGtid&)>;

// FindErrant's rule for one GTID, as a predicate over a source's state.
Result<HasGtid> SourceHas(std::string_view primary_pos, std::string_view primary_binlog_state,
                          std::string_view primary_slave_pos);

// The GTID of a binlog event from SHOW BINLOG EVENTS' Info column: "BEGIN GTID
// 0-1-5" or "GTID 0-1-5" (DDL); nullopt for anything else.
std::optional<mysql::MariaDbGtid> ParseBinlogEventGtid(std::string_view info);

}  // namespace manage::cluster
