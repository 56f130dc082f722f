#include "archive/archiver.h"

#include <fmt/format.h>

#include <algorithm>

#include "archive/archive_state.h"
#include "archive/probe.h"
#include "archive/segment_io.h"

namespace manage::archive {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using Verb = consul::TxnOp::Verb;

constexpr milliseconds kMinMargin{1000};

std::string Ms(milliseconds d) { return std::to_string(d.count()); }

// The state under `key` and its index; epoch 0 and index 0 when absent.
Result<std::pair<ArchiveState, uint64_t>> ReadState(consul::Consul& consul, const std::string& key,
                                                    const Logger& log) {
  auto kv = consul.Get(key);
  if (!kv.ok()) {
    if (kv.status().code() == Code::kNotFound) return std::pair<ArchiveState, uint64_t>{{}, 0};
    return kv.status().Annotate("read " + key);
  }
  auto state = ParseArchiveState(kv->value);
  if (!state.ok()) {
    log.Warn("unreadable binlog archive record; replacing it",
             {{"key", key}, {"error", state.status().message()}});
    return std::pair<ArchiveState, uint64_t>{{}, kv->modify_index};
  }
  return std::pair<ArchiveState, uint64_t>{*state, kv->modify_index};
}

}  // namespace

Status Archiver::RunTerm(const std::string& primary_session) {
  session_ = primary_session;
  stats_ = {};
  tail_ = {};
  seal_ = {};
  sealed_tails_.clear();
  seal_started_.reset();
  MANAGE_RETURN_IF_ERROR(StartEpoch());
  log_ = std::make_unique<TransactionLog>(env_.new_spool, head_.domain_id);
  return Stream();
}

void Archiver::CheckGaps() {
  last_gap_check_ = env_.clock->Monotonic();
  if (!env_.on_gap) return;
  auto segments = ListSegments(*env_.store);
  if (!segments.ok()) return;
  const Chain chain = BuildChain(std::move(*segments));
  if (chain.gaps.empty()) return;
  env_.log.Warn("the binlog archive has a gap", {{"after", GtidText(chain.gaps[0].after)},
                                                 {"through", GtidText(chain.gaps[0].before)},
                                                 {"gaps", std::to_string(chain.gaps.size())}});
  env_.on_gap(chain.gaps[0].after, chain.gaps[0].before);
}

Status Archiver::StartEpoch() {
  auto epoch = ReadState(*env_.consul, s_.archive_key, env_.log);
  if (!epoch.ok()) return epoch.status();
  auto head_state = ReadState(*env_.consul, HeadKey(s_.archive_key), env_.log);
  if (!head_state.ok()) return head_state.status();
  auto segments = ListSegments(*env_.store);
  if (!segments.ok()) return segments.status();
  const Chain chain = BuildChain(std::move(*segments));
  auto domain = env_.domain_id();
  if (!domain.ok()) return domain.status();

  std::optional<MariaDbGtid> head;
  if (epoch->second != 0 && head_state->second != 0) {
    auto published = ParseGtid(head_state->first.gtid);
    if (published.ok()) head = *published;
  }
  if (!head && !chain.empty()) head = chain.Head();
  AttachSource source;
  source.probe = [this](const MariaDbGtid& g) {
    return ProbeDump(*env_.dumper, s_.dump, s_.probe_server_id, g);
  };
  source.oldest = [&]() -> Result<MariaDbGtid> {
    auto text = env_.oldest_state();
    if (!text.ok()) return text.status();
    return PositionIn(*text, *domain);
  };
  source.link_gtids = [this](const ChainLink& link) {
    return LinkGtids(*env_.store, s_.key, link);
  };
  auto attach = FindAttachPoint(head, chain, source);
  if (!attach.ok()) return attach.status().Annotate("finding where the archive continues");

  const uint64_t next = std::max(epoch->first.epoch, chain.epoch) + 1;
  ArchiveState record{next, s_.node, session_, GtidText(attach->gtid), 0, ""};
  ArchiveState head_record{next, s_.node, "", GtidText(attach->gtid), 0, ""};
  Status took = env_.consul->Txn({
      {Verb::kCheckSession, s_.primary_key, "", session_, 0},
      {Verb::kCas, s_.archive_key, SerializeArchiveState(record), "", epoch->second},
      {Verb::kSet, HeadKey(s_.archive_key), SerializeArchiveState(head_record), "", 0},
  });
  if (!took.ok()) return took.Annotate("taking binlog archive epoch " + std::to_string(next));
  auto mine = env_.consul->Get(s_.archive_key);
  if (!mine.ok()) return mine.status().Annotate("read " + s_.archive_key);
  auto parsed = ParseArchiveState(mine->value);
  if (!parsed.ok() || parsed->epoch != next || parsed->session != session_) {
    return Status::Aborted("binlog archive epoch " + std::to_string(next) + " was taken over");
  }
  epoch_index_ = mine->modify_index;
  auto stored = UploadSegment(*env_.store, MarkerSegment(next, attach->gtid), s_.encoding, {});
  if (!stored.ok()) return stored.status();
  stats_.epoch = next;
  last_gap_check_ = env_.clock->Monotonic();
  head_ = attach->gtid;
  seal_prev_ = head_;
  env_.log.Info("binlog archive epoch started", {{"epoch", std::to_string(next)},
                                                 {"after", GtidText(head_)},
                                                 {"previous_head", head ? GtidText(*head) : ""},
                                                 {"forked", attach->forked ? "yes" : "no"},
                                                 {"store", env_.store->Location()}});
  if (attach->forked) {
    env_.log.Warn("the archive held transactions this primary never had; they are superseded",
                  {{"kept_through", GtidText(head_)}, {"archived_head", GtidText(*head)}});
  }
  if (attach->gap_after) {
    env_.log.Warn("binlog archive gap: these transactions are not in this primary's binlog",
                  {{"after", GtidText(*attach->gap_after)}, {"through", GtidText(head_)}});
    if (env_.on_gap) env_.on_gap(*attach->gap_after, head_);
  }
  return Status::Ok();
}

Status Archiver::Stream() {
  mysql::BinlogDumpOptions o = s_.dump;
  o.start = IsBeginning(head_) ? "" : GtidText(head_);
  o.follow = true;
  auto stream = env_.dumper->Open(o);
  if (!stream.ok()) return stream.status().Annotate("reading the binlog after " + o.start);
  while (true) {
    if (env_.stop != nullptr && env_.stop->load()) return ShipTail();
    auto event = (*stream)->Next();
    if (!event.ok() || !event->has_value()) {
      Status why = event.ok() ? Status::Unavailable("the binlog dump ended") : event.status();
      Status shipped = ShipTail();
      if (!shipped.ok()) {
        env_.log.Warn("could not ship the last transactions", {{"error", shipped.message()}});
      }
      return why.Annotate("reading the binlog");
    }
    MANAGE_RETURN_IF_ERROR(OnEvent(**event));
    if (env_.clock->Monotonic() - last_gap_check_ >= s_.gap_check) CheckGaps();
    if (TailDue()) {
      MANAGE_RETURN_IF_ERROR(ShipTail());
      MANAGE_RETURN_IF_ERROR(MaybeSeal(false));
    }
  }
}

Status Archiver::OnEvent(std::string_view event) {
  auto added = log_->Add(event);
  if (!added.ok()) return added.status();
  switch (*added) {
    case TransactionLog::Added::kNothing:
      return Status::Ok();
    case TransactionLog::Added::kForeign:
      env_.log.Warn("transaction of another replication domain not archived",
                    {{"gtid", GtidText(log_->completed().gtid)},
                     {"archived_domain", std::to_string(head_.domain_id)}});
      return Status::Ok();
    case TransactionLog::Added::kNewFormat:
      // The server's format changed (an upgrade, binlog_checksum): what
      // follows goes into segments of its own.
      MANAGE_RETURN_IF_ERROR(ShipTail());
      MANAGE_RETURN_IF_ERROR(MaybeSeal(true));
      return log_->Restart();
    case TransactionLog::Added::kComplete:
      break;
  }
  const mysql::GtidEventInfo& g = log_->completed();
  const MariaDbGtid& before = tail_.empty() ? head_ : tail_.last;
  if (g.gtid.seqno <= before.seqno) {
    return Status::Internal(fmt::format("binlog GTID {} after {}: out of order (gtid_strict_mode?)",
                                        GtidText(g.gtid), GtidText(before)));
  }
  tail_.Add(g, log_->group_start(), env_.clock->Monotonic());
  return Status::Ok();
}

bool Archiver::TailDue() const {
  if (tail_.empty()) return false;
  if (log_->complete_end() - tail_.from >= s_.seal_bytes / 4) return true;
  // Ship early enough that the upload and its publication fit within the
  // RPO: twice the last one's time, at least a second (a busy or descheduled
  // primary), at most half the RPO.
  const milliseconds margin = std::clamp(2 * last_upload_, kMinMargin, s_.rpo / 2);
  return env_.clock->Monotonic() - *tail_.oldest >= s_.rpo - margin;
}

Status Archiver::ShipTail() {
  if (tail_.empty()) return Status::Ok();
  const SegmentInfo info = SegmentOf(stats_.epoch, SegmentKind::kTail, head_, tail_);
  const auto started = env_.clock->Monotonic();
  auto segment = UploadSegment(*env_.store, info, s_.encoding, log_->Content(tail_.from));
  if (!segment.ok()) return segment.status();
  Status published = Publish(*segment);
  if (!published.ok()) {
    if (published.code() == Code::kAborted) {
      Status removed = env_.store->Remove(segment->name);
      env_.log.Warn(
          "no longer the primary or the archive's epoch moved on: segment withdrawn",
          {{"segment", segment->name}, {"removed", removed.ok() ? "yes" : removed.message()}});
    }
    return published;
  }
  const milliseconds lag = duration_cast<milliseconds>(env_.clock->Monotonic() - *tail_.oldest);
  stats_.max_lag = std::max(stats_.max_lag, lag);
  last_upload_ = duration_cast<milliseconds>(env_.clock->Monotonic() - started);
  ++stats_.tails;
  stats_.transactions += tail_.transactions;
  const uint64_t bytes = log_->complete_end() - tail_.from;
  stats_.bytes += bytes;
  env_.log.Debug("binlog segment archived", {{"segment", segment->name},
                                             {"transactions", std::to_string(tail_.transactions)},
                                             {"bytes", std::to_string(bytes)},
                                             {"lag_ms", Ms(lag)},
                                             {"upload_ms", Ms(last_upload_)}});
  if (seal_.empty()) seal_started_ = env_.clock->Monotonic();
  seal_.Extend(tail_);
  sealed_tails_.push_back(segment->name);
  head_ = tail_.last;
  tail_ = {};
  return Status::Ok();
}

Status Archiver::Publish(const SegmentInfo& segment) {
  ArchiveState head{stats_.epoch,           s_.node,          "",
                    GtidText(segment.last), segment.time_max, segment.name};
  return env_.consul->Txn({
      {Verb::kCheckSession, s_.primary_key, "", session_, 0},
      {Verb::kCheckIndex, s_.archive_key, "", "", epoch_index_},
      {Verb::kSet, HeadKey(s_.archive_key), SerializeArchiveState(head), "", 0},
  });
}

Status Archiver::MaybeSeal(bool now) {
  if (seal_.empty() || !tail_.empty()) return Status::Ok();
  const bool full = log_->complete_end() >= s_.seal_bytes;
  const bool old = env_.clock->Monotonic() - *seal_started_ >= s_.seal_age;
  if (!now && !full && !old) return Status::Ok();
  if (sealed_tails_.size() > 1) {
    const SegmentInfo info = SegmentOf(stats_.epoch, SegmentKind::kSealed, seal_prev_, seal_);
    auto sealed = UploadSegment(*env_.store, info, s_.encoding, log_->Content(seal_.from));
    if (!sealed.ok()) return sealed.status().Annotate("sealing");
    for (const std::string& tail : sealed_tails_) {
      Status removed = env_.store->Remove(tail);
      if (!removed.ok() && removed.code() != Code::kNotFound) {
        env_.log.Warn("could not delete a sealed tail; retention will",
                      {{"segment", tail}, {"error", removed.message()}});
      }
    }
    ++stats_.seals;
    env_.log.Info("binlog segments sealed", {{"segment", sealed->name},
                                             {"tails", std::to_string(sealed_tails_.size())},
                                             {"transactions", std::to_string(seal_.transactions)}});
  }
  MANAGE_RETURN_IF_ERROR(log_->DropComplete());
  seal_ = {};
  seal_prev_ = head_;
  sealed_tails_.clear();
  seal_started_.reset();
  return Status::Ok();
}

}  // namespace manage::archive
