// Reading a server's binary log as a replica does: a dump connection that
// starts after a GTID position and receives every event from there on, as
// written in the server's binlog files (header, body and CRC-32). The binlog
// archive reads the primary's own log this way, and other nodes' logs to
// close a gap. MariaDbBinlogDumper uses Connector/C's replication API
// (mariadb_rpl_*); tests use test/fakes/fake_binlog.h. A stream is not
// thread-safe; a dumper may open streams from one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mysql/client.h"

namespace manage::mysql {

struct BinlogDumpOptions {
  ConnectOptions connect;
  // The GTID position (gtid_slave_pos syntax) the stream starts after; ""
  // starts at the beginning of the history (refused once binlogs were purged:
  // OldestBinlogState gives where the oldest file still there begins).
  std::string start;
  // The server_id the dump registers with. The server ends an older dump of
  // the same id when a new one connects: every concurrent dump needs its own,
  // different from every node's server_id.
  uint32_t dump_server_id = 0;
  // true: wait for new events (heartbeats keep the stream alive while the
  // server is idle); false: stop at the end of the last binlog.
  bool follow = true;
  std::chrono::milliseconds heartbeat{1000};
};

class BinlogStream {
 public:
  virtual ~BinlogStream() = default;
  // The next event, bytes valid until the next call. Heartbeats (type 27)
  // and the server's artificial events are passed on; the caller skips them.
  // nullopt at the end of the binlog (follow=false only). Errors:
  //   NotFound            the server no longer has the events after `start`
  //                       (its binlogs were purged past it, or begin after it)
  //   FailedPrecondition  `start` is not in this server's history: it has
  //                       diverged from it, or never had it (a GTID ahead of it)
  //   Unavailable         the connection failed or was lost
  virtual Result<std::optional<std::string_view>> Next() = 0;
};

class BinlogDumper {
 public:
  virtual ~BinlogDumper() = default;
  // Connects and starts the dump. Unavailable when the server cannot be
  // reached; the refusals above may come here or from the first Next().
  virtual Result<std::unique_ptr<BinlogStream>> Open(const BinlogDumpOptions& options) = 0;
};

class MariaDbBinlogDumper final : public BinlogDumper {
 public:
  Result<std::unique_ptr<BinlogStream>> Open(const BinlogDumpOptions& options) override;
};

// The GTID position at the start of the oldest binlog file `conn`'s server
// still has ("" when that file begins the history), from its Gtid_list event:
// where a dump can start at the earliest. Needs BINLOG MONITOR.
Result<std::string> OldestBinlogState(Connection& conn);

// How the server's refusal to start a dump reads, as a Status (see Next()).
// Pure; the text is the server's error message.
Status DumpRefusalToStatus(unsigned int code, std::string_view text);

}  // namespace manage::mysql
