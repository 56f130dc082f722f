#include "archive/stage.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "archive/events.h"
#include "archive/segment_io.h"
#include "sys/posix_error.h"
#include "sys/posix_io.h"
#include "sys/unique_fd.h"

namespace manage::archive {
namespace {

// What reading a segment saw, checked against its name at the end.
struct Seen {
  uint64_t transactions = 0;
  std::optional<MariaDbGtid> first, last;
  uint32_t time_min = 0, time_max = 0;
  bool skip_found = false;
  bool stop_after_found = false;
};

bool Matches(const Target& t, const mysql::GtidEventInfo& g) {
  return t.by_gtid ? g.gtid.domain_id == t.gtid.domain_id && g.gtid.seqno >= t.gtid.seqno
                   : static_cast<int64_t>(g.timestamp) >= t.time;
}

class Stager {
 public:
  Stager(const ChainLink& link, const StageRule& rule, int fd, std::string path)
      : link_(link), rule_(rule), fd_(fd), path_(std::move(path)) {
    keeping_ = !rule.skip_through.has_value();
  }

  Status OnEvent(std::string_view event) {
    auto step = tracker_.Add(event);
    if (!step.ok()) return step.status();
    switch (*step) {
      case GroupTracker::Step::kFormat:
        in_kept_group_ = false;
        return Write(event);  // each format description (the first makes the file's header)
      case GroupTracker::Step::kBegin:
        MANAGE_RETURN_IF_ERROR(Begin(tracker_.group()));
        return in_kept_group_ ? Write(event) : Status::Ok();
      case GroupTracker::Step::kInside:
      case GroupTracker::Step::kEnd:
        return in_kept_group_ ? Write(event) : Status::Ok();
      case GroupTracker::Step::kOutside:
        return Status::Ok();
    }
    return Status::Ok();
  }

  // The segment's transactions against its name and the rule.
  Status Check() const {
    const SegmentInfo& s = link_.segment;
    if (tracker_.in_group()) return Status::Internal("it ends inside a transaction");
    if (seen_.transactions != s.transactions || !seen_.first || !(*seen_.first == s.first) ||
        !(*seen_.last == s.last) || seen_.time_min != s.time_min || seen_.time_max != s.time_max) {
      return Status::Internal(fmt::format(
          "its transactions ({} from {} to {}) are not those its name gives", seen_.transactions,
          seen_.first ? GtidText(*seen_.first) : "-", seen_.last ? GtidText(*seen_.last) : "-"));
    }
    if (link_.stop_after && !seen_.stop_after_found) {
      return Status::Internal("the archive's history continues after " +
                              GtidText(*link_.stop_after) + ", which this segment does not hold");
    }
    if (rule_.skip_through && !seen_.skip_found) {
      return Status::FailedPrecondition(GtidText(*rule_.skip_through) +
                                        " is not in the archive's history");
    }
    return Status::Ok();
  }

  Staged& staged() { return staged_; }

 private:
  Status Begin(const mysql::GtidEventInfo& g) {
    const MariaDbGtid& prev = seen_.last ? *seen_.last : link_.segment.prev;
    if (g.gtid.domain_id != prev.domain_id || g.gtid.seqno <= prev.seqno) {
      return Status::Internal("GTID " + GtidText(g.gtid) + " after " + GtidText(prev));
    }
    if (!seen_.first) {
      seen_.first = g.gtid;
      seen_.time_min = g.timestamp;
    }
    seen_.last = g.gtid;
    seen_.time_min = std::min(seen_.time_min, g.timestamp);
    seen_.time_max = std::max(seen_.time_max, g.timestamp);
    ++seen_.transactions;
    in_kept_group_ = false;
    const bool superseded = link_.stop_after && g.gtid.seqno > link_.stop_after->seqno;
    if (link_.stop_after && g.gtid.seqno == link_.stop_after->seqno) {
      seen_.stop_after_found = g.gtid == *link_.stop_after;
    }
    if (!keeping_) {
      if (rule_.skip_through && g.gtid == *rule_.skip_through) {
        seen_.skip_found = true;
        keeping_ = true;
      }
      return Status::Ok();
    }
    if (superseded || stopped_) return Status::Ok();
    if (rule_.stop_before && Matches(*rule_.stop_before, g)) {
      stopped_ = true;
      staged_.cut = g.gtid;
      return Status::Ok();
    }
    in_kept_group_ = true;
    ++staged_.transactions;
    return Status::Ok();
  }

  Status Write(std::string_view event) {
    if (!header_written_) {
      MANAGE_RETURN_IF_ERROR(sys::WriteAll(fd_, mysql::kBinlogMagic, path_));
      header_written_ = true;
    }
    if (in_kept_group_) ++staged_.events;
    return sys::WriteAll(fd_, event, path_);
  }

  const ChainLink& link_;
  const StageRule& rule_;
  int fd_;
  std::string path_;
  GroupTracker tracker_;
  Seen seen_;
  Staged staged_;
  bool keeping_ = true;
  bool in_kept_group_ = false;
  bool stopped_ = false;
  bool header_written_ = false;
};

}  // namespace

Result<Staged> StageLink(storage::ObjectStore& store, const ChainLink& link,
                         const backup::BackupKey* key, const StageRule& rule,
                         const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys::PosixError("create " + path, errno);
  Stager stager(link, rule, fd.get(), path);
  Status st = ReadSegment(store, link.segment, key,
                          [&](std::string_view event) { return stager.OnEvent(event); });
  if (st.ok()) {
    st = stager.Check();
    if (!st.ok() && st.code() == Code::kInternal) {
      st = Status::Internal("segment " + link.segment.name + " is corrupt: " + st.message());
    }
  }
  if (st.ok() && ::fsync(fd.get()) != 0) st = sys::PosixError("fsync " + path, errno);
  if (!st.ok()) {
    fd.Reset();
    ::unlink(path.c_str());
    return st;
  }
  Staged out = stager.staged();
  out.path = path;
  return out;
}

}  // namespace manage::archive
