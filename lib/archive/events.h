// Reading binlog events as the archive sees them: EventSplitter cuts a byte
// stream (a segment's content, read back chunk by chunk) into whole events;
// GroupTracker follows format descriptions and transaction groups (a GTID
// event up to the event that ends its group, mysql/binlog_event.h) and
// checks every event's CRC-32. The archiver and the restore both use them,
// so what is written is read back by the same rules. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "mysql/binlog_event.h"

namespace manage::archive {

class EventSplitter {
 public:
  using OnEvent = std::function<Status(std::string_view event)>;
  // `expect_magic`: the stream starts with the binlog magic (a file), which
  // is checked and not passed on.
  explicit EventSplitter(bool expect_magic) : magic_left_(expect_magic ? 4 : 0) {}
  // Passes every event completed by `chunk` to `on_event`; Internal for a
  // stream that is not binlog events, or the callback's error.
  Status Feed(std::string_view chunk, const OnEvent& on_event);
  // OK when the stream ended between events; Internal when it was cut.
  Status Finish() const;

 private:
  size_t magic_left_;
  std::string magic_seen_;
  std::string pending_;
};

class GroupTracker {
 public:
  enum class Step {
    kOutside,  // not part of a transaction (rotate, heartbeat, Gtid_list, ...): not archived
    kFormat,   // a format description: format() and format_event() now describe it
    kBegin,    // a GTID event: a group starts (group() describes it)
    kInside,   // an event inside the group
    kEnd,      // the group's last event
  };
  // Classifies `event` and checks its CRC-32 (events outside groups are
  // not checked: they are dropped). Internal for an event that cannot be
  // read, a bad CRC, a group event before any format description, or a GTID
  // event inside a group that has not ended.
  Result<Step> Add(std::string_view event);

  bool has_format() const { return format_.has_value(); }
  const mysql::BinlogFormat& format() const { return *format_; }
  const std::string& format_event() const { return format_event_; }
  bool in_group() const { return in_group_; }
  // The current (or last) group's GTID event.
  const mysql::GtidEventInfo& group() const { return group_; }

 private:
  std::optional<mysql::BinlogFormat> format_;
  std::string format_event_;
  bool in_group_ = false;
  mysql::GtidEventInfo group_;
};

}  // namespace manage::archive
