#include "archive/events.h"

namespace manage::archive {

using mysql::BinlogEventType;

Status EventSplitter::Feed(std::string_view chunk, const OnEvent& on_event) {
  while (magic_left_ > 0 && !chunk.empty()) {
    magic_seen_ += chunk.front();
    chunk.remove_prefix(1);
    --magic_left_;
    if (magic_left_ == 0 && magic_seen_ != mysql::kBinlogMagic) {
      return Status::Internal("not a binlog: the magic bytes are missing");
    }
  }
  pending_.append(chunk);
  size_t at = 0;
  while (pending_.size() - at >= mysql::kEventHeaderBytes) {
    const uint32_t size = mysql::ReadLe32(pending_, at + 9);
    if (size < mysql::kEventHeaderBytes) {
      return Status::Internal("binlog event with a size of " + std::to_string(size));
    }
    if (pending_.size() - at < size) break;
    MANAGE_RETURN_IF_ERROR(on_event(std::string_view(pending_).substr(at, size)));
    at += size;
  }
  pending_.erase(0, at);
  return Status::Ok();
}

Status EventSplitter::Finish() const {
  if (magic_left_ > 0 && magic_left_ < 4) return Status::Internal("binlog cut inside its magic");
  if (!pending_.empty()) {
    return Status::Internal("binlog cut inside an event (" + std::to_string(pending_.size()) +
                            " bytes left over)");
  }
  return Status::Ok();
}

Result<GroupTracker::Step> GroupTracker::Add(std::string_view event) {
  auto header = mysql::ParseEventHeader(event);
  if (!header.ok()) return header.status();
  switch (header->type) {
    case BinlogEventType::kFormatDescriptionEvent: {
      if (in_group_) return Status::Internal("binlog: a format description inside a transaction");
      auto format = mysql::ParseFormatDescription(event);
      if (!format.ok()) return format.status();
      MANAGE_RETURN_IF_ERROR(mysql::CheckEventCrc(event, *format));
      format_ = std::move(*format);
      format_event_ = std::string(event);
      return Step::kFormat;
    }
    case BinlogEventType::kRotateEvent:
    case BinlogEventType::kHeartbeatEvent:
    case BinlogEventType::kGtidListEvent:
    case BinlogEventType::kBinlogCheckpointEvent:
    case BinlogEventType::kStopEvent:
    case BinlogEventType::kStartEncryptionEvent:
    case BinlogEventType::kIncidentEvent:
      return Step::kOutside;
    default:
      break;
  }
  if (!format_) return Status::Internal("binlog: an event before any format description");
  if (header->type == BinlogEventType::kGtidEvent) {
    if (in_group_) {
      return Status::Internal("binlog: GTID event inside the transaction " +
                              std::to_string(group_.gtid.seqno) + " that has not ended");
    }
    MANAGE_RETURN_IF_ERROR(mysql::CheckEventCrc(event, *format_));
    auto gtid = mysql::ParseGtidEvent(event);
    if (!gtid.ok()) return gtid.status();
    group_ = *gtid;
    in_group_ = true;
    return Step::kBegin;
  }
  if (!in_group_) return Step::kOutside;
  MANAGE_RETURN_IF_ERROR(mysql::CheckEventCrc(event, *format_));
  auto ends = mysql::EndsGroup(event, *format_, group_.flags);
  if (!ends.ok()) return ends.status();
  if (!*ends) return Step::kInside;
  in_group_ = false;
  return Step::kEnd;
}

}  // namespace manage::archive
