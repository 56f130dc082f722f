#include "archive/fill.h"

#include <fmt/format.h>

#include "archive/attach.h"
#include "archive/probe.h"
#include "archive/segment_io.h"
#include "archive/transaction_log.h"

namespace manage::archive {
namespace {

// The chain up to and including part `last`.
Chain Prefix(const Chain& chain, size_t last) {
  Chain out;
  out.parts.assign(chain.parts.begin(), chain.parts.begin() + static_cast<long>(last) + 1);
  out.gaps.assign(chain.gaps.begin(), chain.gaps.begin() + static_cast<long>(last));
  out.epoch = chain.epoch;
  return out;
}

// Reads the source's binlog after `from` through `until` into fill segments.
// Nothing is uploaded before `until` was seen: a node whose history turns out
// not to lead there must not leave its transactions in the archive. So the
// spool holds the whole gap until then.
class Filler {
 public:
  Filler(const FillSource& source, const FillEnv& env, uint64_t epoch, MariaDbGtid from,
         MariaDbGtid until)
      : source_(source),
        env_(env),
        epoch_(epoch),
        from_(from),
        until_(until),
        log_(env.new_spool, from.domain_id) {}

  Result<uint64_t> Run() {
    mysql::BinlogDumpOptions o = source_.dump;
    o.start = IsBeginning(from_) ? "" : GtidText(from_);
    o.follow = false;
    auto stream = env_.dumper->Open(o);
    if (!stream.ok()) return stream.status();
    while (true) {
      auto event = (*stream)->Next();
      if (!event.ok()) return event.status();
      if (!event->has_value()) {
        return Status::NotFound(fmt::format("{}'s binlog ends at {}, before {}", source_.name,
                                            GtidText(Last()), GtidText(until_)));
      }
      auto added = log_.Add(**event);
      if (!added.ok()) return added.status();
      if (*added == TransactionLog::Added::kNewFormat) {
        return Status::FailedPrecondition(
            source_.name + "'s binlog changes format inside the gap; fill it by hand");
      }
      if (*added != TransactionLog::Added::kComplete) continue;
      const MariaDbGtid& g = log_.completed().gtid;
      if (g.seqno > until_.seqno || (g.seqno == until_.seqno && !(g == until_))) {
        return Status::FailedPrecondition(
            fmt::format("{}'s history does not lead to {}: it has {} there", source_.name,
                        GtidText(until_), GtidText(g)));
      }
      if (batches_.empty() || log_.complete_end() - batches_.back().from >= env_.segment_bytes) {
        batches_.push_back({});
      }
      batches_.back().Add(log_.completed(), log_.group_start(), std::chrono::steady_clock::now());
      if (g == until_) return Upload();
    }
  }

 private:
  MariaDbGtid Last() const { return batches_.empty() ? from_ : batches_.back().last; }

  Result<uint64_t> Upload() {
    uint64_t archived = 0;
    MariaDbGtid prev = from_;
    for (size_t i = 0; i < batches_.size(); ++i) {
      SegmentContent content = log_.Content(batches_[i].from);
      if (i + 1 < batches_.size()) content.to = batches_[i + 1].from;
      auto segment =
          UploadSegment(*env_.store, SegmentOf(epoch_, SegmentKind::kFill, prev, batches_[i]),
                        env_.encoding, content);
      if (!segment.ok()) return segment.status();
      env_.log.Info("binlog archive gap filled",
                    {{"segment", segment->name}, {"from_node", source_.name}});
      archived += batches_[i].transactions;
      prev = batches_[i].last;
    }
    return archived;
  }

  const FillSource& source_;
  const FillEnv& env_;
  uint64_t epoch_;
  MariaDbGtid from_, until_;
  TransactionLog log_;
  std::vector<Batch> batches_;
};

}  // namespace

Result<uint64_t> FillGap(const Chain& chain, size_t gap, const FillSource& source,
                         const FillEnv& env) {
  if (gap >= chain.gaps.size()) return Status::InvalidArgument("no such gap");
  const Chain before = Prefix(chain, gap);
  const ChainPart& after = chain.parts[gap + 1];
  AttachSource attach_source;
  attach_source.probe = [&](const MariaDbGtid& g) {
    return ProbeDump(*env.dumper, source.dump, source.probe_server_id, g);
  };
  attach_source.oldest = [&]() -> Result<MariaDbGtid> {
    auto text = source.oldest_state();
    if (!text.ok()) return text.status();
    return PositionIn(*text, after.start.domain_id);
  };
  attach_source.link_gtids = [&](const ChainLink& link) {
    return LinkGtids(*env.store, env.key, link);
  };
  auto attach = FindAttachPoint(before.Head(), before, attach_source);
  if (!attach.ok()) return attach.status();
  if (attach->gap_after) {
    return Status::NotFound(source.name + "'s binlog begins after " + GtidText(*attach->gap_after));
  }
  if (attach->gtid.seqno >= after.start.seqno) {
    return Status::FailedPrecondition(source.name + " has nothing before " + GtidText(after.start));
  }
  Filler filler(source, env, after.start_epoch, attach->gtid, after.start);
  return filler.Run();
}

}  // namespace manage::archive
