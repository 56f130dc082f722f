// ERRANT_POLICY=flashback, the decision part: which of this node's binlog
// events are errant, whether mariadb-binlog --flashback can revert them, and
// the GTID position the node has once they are gone. Pure; table-tested in
// test/unit/cluster/flashback_test.cc. lib/hooks/flashback.cc runs it.
//
// With gtid_strict_mode the events of a domain follow one history in seqno
// order: once one is errant (the cluster does not have it), every later one in
// that domain is too. Flashback reverts row changes only: a DDL statement or
// a statement logged as such cannot be reverted, and the binlogs must still
// hold every errant event; otherwise the node reclones.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/errant.h"
#include "mysql/gtid.h"

namespace manage::cluster {

// One row of SHOW BINLOG EVENTS.
struct BinlogEvent {
  std::string file;  // Log_name
  std::string type;  // Event_type: Gtid, Gtid_list, Table_map, Write_rows_v1, Xid, Query...
  std::string info;  // Info
};

// What the cluster has, seen from a replica's own state: everything up to its
// gtid_slave_pos in each domain (what it replicated); nothing after.
HasGtid ReplicatedUpTo(const mysql::MariaDbGtidPosition& slave_pos);

struct FlashbackPlan {
  std::string why_not;              // set when flashback cannot do it: reclone instead
  std::vector<std::string> files;   // binlogs from the one with the first errant event
  std::string start_position;       // --start-position: the last common GTID per errant domain
  std::string domains;              // --do-domain-ids: the errant domains, "0,3"
  std::vector<std::string> errant;  // the errant GTIDs, in binlog order
  // The node's position once they are reverted: per errant domain the last
  // common GTID (none if nothing of it is common), per other domain its own.
  std::string position;
};

// `events`: this node's binlog events, oldest file first, starting with a
// file whose Gtid_list shows only common GTIDs in the errant domains;
// `current_pos`: its gtid_current_pos.
FlashbackPlan PlanFlashback(const std::vector<BinlogEvent>& events, const HasGtid& has,
                            std::string_view current_pos);

// For a file's Gtid_list event (Info "[0-1-5,0-2-9]"): whether it shows only
// GTIDs `has` knows in the domains where `current_pos` is errant. Reading the
// binlogs backwards, the first file for which this holds is where to start;
// false for a malformed list.
bool StartsBeforeErrant(std::string_view gtid_list_info, const HasGtid& has,
                        std::string_view current_pos);

}  // namespace manage::cluster
