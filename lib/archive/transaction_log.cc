#include "archive/transaction_log.h"

#include <algorithm>

namespace manage::archive {

void Batch::Add(const mysql::GtidEventInfo& g, uint64_t group_start,
                std::chrono::steady_clock::time_point now) {
  if (empty()) {
    from = group_start;
    first = g.gtid;
    time_min = g.timestamp;
    oldest = now;
  }
  last = g.gtid;
  time_min = std::min(time_min, g.timestamp);
  time_max = std::max(time_max, g.timestamp);
  ++transactions;
}

void Batch::Extend(const Batch& later) {
  if (later.empty()) return;
  if (empty()) {
    *this = later;
    return;
  }
  last = later.last;
  time_min = std::min(time_min, later.time_min);
  time_max = std::max(time_max, later.time_max);
  transactions += later.transactions;
}

SegmentInfo SegmentOf(uint64_t epoch, SegmentKind kind, const MariaDbGtid& prev,
                      const Batch& batch) {
  SegmentInfo s;
  s.epoch = epoch;
  s.kind = kind;
  s.prev = prev;
  s.first = batch.first;
  s.last = batch.last;
  s.time_min = batch.time_min;
  s.time_max = batch.time_max;
  s.transactions = batch.transactions;
  return s;
}

Result<TransactionLog::Added> TransactionLog::Add(std::string_view event) {
  auto step = tracker_.Add(event);
  if (!step.ok()) return step.status();
  switch (*step) {
    case GroupTracker::Step::kFormat:
      if (spool_ && tracker_.format().layout == layout_) return Added::kNothing;
      pending_format_ = tracker_.format_event();
      if (spool_ && complete_end_ > 0) return Added::kNewFormat;
      MANAGE_RETURN_IF_ERROR(Restart());
      return Added::kNothing;
    case GroupTracker::Step::kBegin:
      skipping_ = tracker_.group().gtid.domain_id != domain_;
      if (skipping_) return Added::kNothing;
      group_start_ = spool_->size();
      MANAGE_RETURN_IF_ERROR(spool_->Append(event));
      return Added::kNothing;
    case GroupTracker::Step::kInside:
      if (!skipping_) MANAGE_RETURN_IF_ERROR(spool_->Append(event));
      return Added::kNothing;
    case GroupTracker::Step::kEnd:
      if (skipping_) {
        skipping_ = false;
        return Added::kForeign;
      }
      MANAGE_RETURN_IF_ERROR(spool_->Append(event));
      complete_end_ = spool_->size();
      return Added::kComplete;
    case GroupTracker::Step::kOutside:
      break;
  }
  return Added::kNothing;
}

Status TransactionLog::Restart() {
  auto spool = new_spool_();
  if (!spool.ok()) return spool.status();
  spool_ = std::move(*spool);
  header_ = std::string(mysql::kBinlogMagic) + pending_format_;
  layout_ = tracker_.format().layout;
  group_start_ = complete_end_ = 0;
  return Status::Ok();
}

Status TransactionLog::DropComplete() {
  if (!spool_ || complete_end_ == 0) return Status::Ok();
  MANAGE_RETURN_IF_ERROR(spool_->DropBefore(complete_end_));
  group_start_ -= std::min(group_start_, complete_end_);
  complete_end_ = 0;
  return Status::Ok();
}

}  // namespace manage::archive
