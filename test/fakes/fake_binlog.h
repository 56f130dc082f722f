// FakeBinlogServer / FakeBinlogDumper: a server's binary log as a list of
// transactions (made with binlog_maker.h), and dumps of it that behave as a
// MariaDB primary's do: a dump starts after a GTID the log holds, is refused
// with NotFound when the events after it were purged and FailedPrecondition
// when the GTID is not in this history, begins with an artificial rotate and
// the format description, and, when following, sends a heartbeat whenever it
// has nothing new (on_idle may append transactions or stop the test).
// Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakes/binlog_maker.h"
#include "mysql/binlog_stream.h"
#include "mysql/gtid.h"

namespace manage::mysql {

struct FakeBinlogServer {
  struct Transaction {
    MariaDbGtid gtid;
    std::vector<std::string> events;
  };
  std::string format = testing::MakeFde();
  std::vector<Transaction> log;
  size_t purged = 0;  // log[0, purged) are no longer in any binlog file
  std::vector<BinlogDumpOptions> opens;
  std::function<void()> on_idle;
  std::function<void(const BinlogDumpOptions&)> on_open;  // runs as each dump opens
  Status open_error;                                      // every Open fails with it once set
  int fail_after_events = -1;  // a stream fails (Unavailable) after this many events

  void Add(const std::vector<std::string>& events) {
    auto g = ParseGtidEvent(events.front());
    log.push_back({g.ok() ? g->gtid : MariaDbGtid{}, events});
  }
  // Where the oldest binlog file starts (mysql::OldestBinlogState).
  std::string OldestState() const {
    if (purged == 0) return "";
    const MariaDbGtid& g = log[purged - 1].gtid;
    return std::to_string(g.domain_id) + "-" + std::to_string(g.server_id) + "-" +
           std::to_string(g.seqno);
  }
};

class FakeBinlogDumper final : public BinlogDumper {
 public:
  explicit FakeBinlogDumper(FakeBinlogServer* server) : server_(server) {}

  Result<std::unique_ptr<BinlogStream>> Open(const BinlogDumpOptions& options) override {
    server_->opens.push_back(options);
    if (server_->on_open) server_->on_open(options);
    if (!server_->open_error.ok()) return server_->open_error;
    auto from = StartIndex(options.start);
    if (!from.ok()) return from.status();
    return std::unique_ptr<BinlogStream>(new Stream(server_, *from, options.follow));
  }

 private:
  class Stream final : public BinlogStream {
   public:
    Stream(FakeBinlogServer* server, size_t next, bool follow)
        : server_(server), next_(next), follow_(follow) {
      queue_.push_back(
          testing::MakeEvent(kRotateEvent, 0, 1, std::string(12, 'r'), true, kArtificialEventFlag));
      queue_.push_back(server_->format);
    }
    Result<std::optional<std::string_view>> Next() override {
      if (server_->fail_after_events >= 0 && sent_ >= server_->fail_after_events) {
        return Status::Unavailable("(2013) Lost connection to server during query");
      }
      while (queue_.empty()) {
        if (next_ < server_->log.size()) {
          for (const std::string& e : server_->log[next_].events) queue_.push_back(e);
          ++next_;
          continue;
        }
        if (!follow_) return std::optional<std::string_view>();
        if (server_->on_idle) server_->on_idle();
        if (next_ < server_->log.size()) continue;
        current_ = testing::MakeEvent(kHeartbeatEvent, 0, 1, "mysql-bin.000001");
        ++sent_;
        return std::optional<std::string_view>(current_);
      }
      current_ = queue_.front();
      queue_.erase(queue_.begin());
      ++sent_;
      return std::optional<std::string_view>(current_);
    }

   private:
    FakeBinlogServer* server_;
    size_t next_;
    bool follow_;
    std::vector<std::string> queue_;
    std::string current_;
    int sent_ = 0;
  };

  Result<size_t> StartIndex(const std::string& start) {
    const auto& log = server_->log;
    if (start.empty()) {
      if (server_->purged > 0) return Status::NotFound("(1236) Could not find GTID state");
      return size_t{0};
    }
    auto pos = MariaDbGtidPosition::Parse(start);
    if (!pos.ok() || pos->gtids().size() != 1) return Status::InvalidArgument("bad start");
    const MariaDbGtid& g = pos->gtids().front();
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].gtid == g) {
        if (i + 1 < server_->purged) return Status::NotFound("(1236) ... have been purged");
        return i + 1;
      }
    }
    const uint64_t oldest = server_->purged < log.size() ? log[server_->purged].gtid.seqno : 0;
    if (server_->purged > 0 && g.seqno < oldest) {
      return Status::NotFound("(1236) ... have been purged");
    }
    return Status::FailedPrecondition("(1236) ... which is not in the master's binlog");
  }

  FakeBinlogServer* server_;
};

}  // namespace manage::mysql
