// TransactionLog: whole transactions of one replication domain, received as
// binlog events, kept in a spool (archive/spool.h) until they are shipped as
// segments. It tracks format descriptions and transaction groups
// (archive/events.h), appends the events of the domain's transactions and
// drops everything else; Batch describes a run of complete transactions in
// the spool. Used by the archiver (the primary's own binlog) and by the gap
// filler (another node's). Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "archive/events.h"
#include "archive/segment.h"
#include "archive/segment_io.h"
#include "archive/spool.h"

namespace manage::archive {

// Complete transactions held in the spool and not yet shipped.
struct Batch {
  uint64_t from = 0;  // spool offset of the first
  MariaDbGtid first, last;
  uint32_t time_min = 0, time_max = 0;
  uint64_t transactions = 0;
  std::optional<std::chrono::steady_clock::time_point> oldest;  // when the first arrived
  bool empty() const { return transactions == 0; }
  // Adds a transaction that ends at the spool's end.
  void Add(const mysql::GtidEventInfo& g, uint64_t group_start,
           std::chrono::steady_clock::time_point now);
  // Appends `later` (which follows this batch).
  void Extend(const Batch& later);
};

// A segment of `kind` holding `batch`, following `prev`.
SegmentInfo SegmentOf(uint64_t epoch, SegmentKind kind, const MariaDbGtid& prev,
                      const Batch& batch);

class TransactionLog {
 public:
  using SpoolFactory = std::function<Result<std::unique_ptr<Spool>>()>;
  TransactionLog(SpoolFactory new_spool, uint32_t domain)
      : new_spool_(std::move(new_spool)), domain_(domain) {}

  enum class Added {
    kNothing,    // held, or dropped
    kComplete,   // a transaction of the domain completed: completed() describes it
    kForeign,    // a transaction of another domain was dropped (completed() describes it)
    kNewFormat,  // a format description with another layout while complete
                 // transactions are held: ship them, then call Restart()
  };
  Result<Added> Add(std::string_view event);
  // After kNewFormat: a new spool that begins with the new format.
  Status Restart();

  const mysql::GtidEventInfo& completed() const { return tracker_.group(); }
  uint64_t group_start() const { return group_start_; }
  uint64_t complete_end() const { return complete_end_; }
  // The segment content of bytes [from, complete_end()).
  SegmentContent Content(uint64_t from) const {
    return {header_, spool_.get(), from, complete_end_};
  }
  // Forgets bytes before complete_end(): a transaction still being received stays.
  Status DropComplete();

 private:
  SpoolFactory new_spool_;
  uint32_t domain_;
  GroupTracker tracker_;
  std::unique_ptr<Spool> spool_;
  std::string header_;  // magic + the format description of the spool's events
  std::string layout_;
  std::string pending_format_;  // a new format description waiting for Restart()
  uint64_t group_start_ = 0;
  uint64_t complete_end_ = 0;
  bool skipping_ = false;
};

}  // namespace manage::archive
