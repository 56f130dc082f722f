#include "archive/probe.h"

#include "archive/segment_io.h"

namespace manage::archive {

Result<Have> ProbeDump(mysql::BinlogDumper& dumper, mysql::BinlogDumpOptions dump,
                       uint32_t probe_id, const MariaDbGtid& gtid) {
  dump.start = IsBeginning(gtid) ? "" : GtidText(gtid);
  dump.follow = false;
  dump.dump_server_id = probe_id;
  auto stream = dumper.Open(dump);
  Status st = stream.ok() ? (*stream)->Next().status() : stream.status();
  if (st.ok()) return Have::kHave;
  if (st.code() == Code::kNotFound) return Have::kPurged;
  if (st.code() == Code::kFailedPrecondition) return Have::kLack;
  return st.Annotate("probing the binlog after " + GtidText(gtid));
}

Result<std::vector<MariaDbGtid>> LinkGtids(storage::ObjectStore& store,
                                           const backup::BackupKey* key, const ChainLink& link) {
  std::vector<MariaDbGtid> out;
  GroupTracker tracker;
  Status st = ReadSegment(store, link.segment, key, [&](std::string_view event) {
    auto step = tracker.Add(event);
    if (!step.ok()) return step.status();
    if (*step == GroupTracker::Step::kBegin && tracker.group().gtid.seqno <= link.End().seqno) {
      out.push_back(tracker.group().gtid);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<MariaDbGtid> PositionIn(const std::string& state, uint32_t domain) {
  auto pos = mysql::MariaDbGtidPosition::Parse(state);
  if (!pos.ok()) return pos.status();
  const MariaDbGtid* g = pos->Find(domain);
  return g != nullptr ? *g : MariaDbGtid{domain, 0, 0};
}

}  // namespace manage::archive
