#include "cluster/failover.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "backup/backup_record.h"

namespace manage::cluster {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void StringField(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string GetString(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// A candidate's place in the ranking among those that qualify: higher first.
bool RanksBefore(const Candidate& a, const Candidate& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.semi_sync != b.semi_sync) return a.semi_sync;
  return a.node < b.node;
}

}  // namespace

FailoverDecision DecideFailover(const FailoverInputs& in) {
  if (in.lock_held) {
    return {FailoverGate::kNotNeeded, fmt::format("{} holds the primary lock", in.last_primary)};
  }
  if (in.lock_missing_for && *in.lock_missing_for < in.lock_loss_grace) {
    return {FailoverGate::kCooldown,
            fmt::format("the primary lock is missing (Consul lost its state); the last primary "
                        "may still be writable for {} ms: waiting for it to take the lock again",
                        (in.lock_loss_grace - *in.lock_missing_for).count())};
  }
  if (in.forced) return {FailoverGate::kProceed, "forced by an operator"};
  if (in.last_primary_passing && in.last_automatic && in.now < *in.last_automatic + in.cooldown) {
    auto left =
        std::chrono::duration_cast<std::chrono::seconds>(*in.last_automatic + in.cooldown - in.now);
    return {FailoverGate::kCooldown,
            fmt::format("the last automatic failover was less than FAILOVER_COOLDOWN={}s ago "
                        "({}s left) and the last primary {} is still registered; waiting for it "
                        "to take the lock again",
                        in.cooldown.count(), left.count(), in.last_primary)};
  }
  if (in.last_primary.empty()) return {FailoverGate::kProceed, "no primary holds the lock"};
  return {FailoverGate::kProceed,
          fmt::format("the primary lock is free (last held by {}{})", in.last_primary,
                      in.last_primary_passing ? ", still registered" : ", gone")};
}

Result<CandidateChoice> ChooseCandidate(mysql::Flavor flavor, const std::vector<Candidate>& all) {
  std::vector<const Candidate*> reachable;
  for (const Candidate& c : all) {
    if (c.reachable) reachable.push_back(&c);
  }
  if (reachable.empty()) {
    return Status::FailedPrecondition("no candidate could be reached");
  }
  std::vector<const Candidate*> complete;  // have everything any candidate received
  std::vector<std::string> rejected;
  for (const Candidate* c : reachable) {
    std::string missing_from;
    for (const Candidate* other : reachable) {
      if (other == c) continue;
      auto subset = mysql::GtidIsSubset(flavor, other->received, c->executed);
      if (!subset.ok()) return subset.status();
      if (!*subset) {
        missing_from = other->node;
        break;
      }
    }
    // Its own relay log counts too: it must have applied what it received.
    if (missing_from.empty()) {
      auto own = mysql::GtidIsSubset(flavor, c->received, c->executed);
      if (!own.ok()) return own.status();
      if (!*own) missing_from = c->node + "'s own relay log";
    }
    if (!missing_from.empty()) {
      rejected.push_back(fmt::format("{} lacks transactions of {}", c->node, missing_from));
    } else if (c->no_failover) {
      rejected.push_back(fmt::format("{} has NO_FAILOVER", c->node));
    } else if (!c->caught_up) {
      rejected.push_back(fmt::format("{} did not apply its relay log in time", c->node));
    } else {
      complete.push_back(c);
    }
  }
  if (complete.empty()) {
    std::string why = "no candidate has every transaction and may lead";
    for (const std::string& r : rejected) why += "; " + r;
    return Status::FailedPrecondition(why);
  }
  std::sort(complete.begin(), complete.end(),
            [](const Candidate* a, const Candidate* b) { return RanksBefore(*a, *b); });
  const Candidate& best = *complete.front();
  std::string reason = fmt::format("most advanced ({}), priority {}{}",
                                   best.executed.empty() ? "empty" : best.executed, best.priority,
                                   best.semi_sync ? ", semi-sync replica" : "");
  if (complete.size() > 1) reason += fmt::format(", first of {} equally advanced", complete.size());
  return CandidateChoice{best.node, best.executed, reason};
}

Result<std::string> GtidUnion(mysql::Flavor flavor, std::string_view a, std::string_view b) {
  if (flavor == mysql::Flavor::kMySql) {
    auto x = mysql::MySqlGtidSet::Parse(a);
    if (!x.ok()) return x.status();
    auto y = mysql::MySqlGtidSet::Parse(b);
    if (!y.ok()) return y.status();
    return x->Union(*y).ToString();
  }
  auto x = mysql::MariaDbGtidPosition::Parse(a);
  if (!x.ok()) return x.status();
  auto y = mysql::MariaDbGtidPosition::Parse(b);
  if (!y.ok()) return y.status();
  std::map<uint32_t, mysql::MariaDbGtid> merged;
  for (const mysql::MariaDbGtid& g : x->gtids()) merged[g.domain_id] = g;
  for (const mysql::MariaDbGtid& g : y->gtids()) {
    auto it = merged.find(g.domain_id);
    if (it == merged.end() || it->second.seqno < g.seqno) merged[g.domain_id] = g;
  }
  std::string out;
  for (const auto& [domain, g] : merged) {
    if (!out.empty()) out += ",";
    out += fmt::format("{}-{}-{}", g.domain_id, g.server_id, g.seqno);
  }
  return out;
}

NodeTraits ParseNodeTags(const std::vector<std::string>& tags) {
  NodeTraits t;
  static constexpr std::string_view kPriority = "failover-priority=";
  for (const std::string& tag : tags) {
    if (tag == "no-failover") t.no_failover = true;
    if (tag.rfind(kPriority, 0) == 0) {
      int64_t v = 0;
      if (ParseInt(std::string_view(tag).substr(kPriority.size()), &v) && v >= -1000 && v <= 1000) {
        t.priority = static_cast<int>(v);
      }
    }
  }
  return t;
}

Result<std::vector<ErrantRange>> FindErrant(std::string_view replica_pos,
                                            std::string_view primary_pos,
                                            std::string_view primary_binlog_state) {
  auto replica = mysql::MariaDbGtidPosition::Parse(replica_pos);
  if (!replica.ok()) return replica.status().Annotate("replica GTID position");
  auto primary = mysql::MariaDbGtidPosition::Parse(primary_pos);
  if (!primary.ok()) return primary.status().Annotate("primary GTID position");
  // gtid_binlog_state has one GTID per (domain, server): parse piece by piece.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> known;
  size_t start = 0;
  while (start <= primary_binlog_state.size()) {
    size_t comma = primary_binlog_state.find(',', start);
    std::string_view piece = primary_binlog_state.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto one = mysql::MariaDbGtidPosition::Parse(piece);
    if (!one.ok()) return one.status().Annotate("primary binlog state");
    for (const mysql::MariaDbGtid& g : one->gtids()) {
      uint64_t& seq = known[{g.domain_id, g.server_id}];
      seq = std::max(seq, g.seqno);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  for (const mysql::MariaDbGtid& g : primary->gtids()) {
    uint64_t& seq = known[{g.domain_id, g.server_id}];
    seq = std::max(seq, g.seqno);
  }
  std::vector<ErrantRange> out;
  for (const mysql::MariaDbGtid& mine : replica->gtids()) {
    const mysql::MariaDbGtid* theirs = primary->Find(mine.domain_id);
    uint64_t domain_seq = theirs ? theirs->seqno : 0;
    auto it = known.find({mine.domain_id, mine.server_id});
    if (mine.seqno > domain_seq) {
      // Ahead of the primary in this domain. Same server: just later
      // transactions; another server: everything after the primary's point.
      out.push_back({mine.domain_id, mine.server_id,
                     it != known.end() ? std::min(it->second, domain_seq) : domain_seq,
                     mine.seqno});
    } else if (it != known.end() && it->second < mine.seqno) {
      out.push_back({mine.domain_id, mine.server_id, it->second, mine.seqno});
    }
  }
  return out;
}

std::string FormatErrant(const std::vector<ErrantRange>& ranges) {
  std::string out;
  for (const ErrantRange& r : ranges) {
    if (!out.empty()) out += ",";
    if (r.last_seqno == r.after_seqno + 1) {
      out += fmt::format("{}-{}-{}", r.domain_id, r.server_id, r.last_seqno);
    } else {
      out += fmt::format("{}-{}-{}..{}", r.domain_id, r.server_id, r.after_seqno + 1, r.last_seqno);
    }
  }
  return out;
}

std::optional<mysql::MariaDbGtid> ParseBinlogEventGtid(std::string_view info) {
  if (info.rfind("BEGIN ", 0) == 0) info.remove_prefix(6);
  if (info.rfind("GTID ", 0) != 0) return std::nullopt;
  info.remove_prefix(5);
  size_t end = info.find(' ');
  if (end != std::string_view::npos) info = info.substr(0, end);
  auto pos = mysql::MariaDbGtidPosition::Parse(info);
  if (!pos.ok() || pos->gtids().size() != 1) return std::nullopt;
  return pos->gtids().front();
}

std::string SerializeHistory(const std::vector<FailoverEvent>& events) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartArray();
  for (const FailoverEvent& e : events) {
    w.StartObject();
    StringField(w, "time", backup::FormatBackupTime(e.time));
    StringField(w, "kind", e.kind);
    StringField(w, "old", e.old_primary);
    StringField(w, "new", e.new_primary);
    w.Key("candidates");
    w.StartArray();
    for (const CandidateRecord& c : e.candidates) {
      w.StartObject();
      StringField(w, "node", c.node);
      StringField(w, "gtid", c.gtid);
      w.EndObject();
    }
    w.EndArray();
    StringField(w, "reason", e.reason);
    w.Key("duration_ms");
    w.Int64(e.duration.count());
    w.EndObject();
  }
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<std::vector<FailoverEvent>> ParseHistory(std::string_view json) {
  std::vector<FailoverEvent> out;
  if (json.empty()) return out;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return Status::InvalidArgument("failover history is not a JSON array");
  }
  for (const rapidjson::Value& v : doc.GetArray()) {
    if (!v.IsObject()) return Status::InvalidArgument("failover history entry is not an object");
    FailoverEvent e;
    auto time = backup::ParseBackupTime(GetString(v, "time"));
    if (!time.ok()) return time.status().Annotate("failover history time");
    e.time = *time;
    e.kind = GetString(v, "kind");
    e.old_primary = GetString(v, "old");
    e.new_primary = GetString(v, "new");
    e.reason = GetString(v, "reason");
    auto cands = v.FindMember("candidates");
    if (cands != v.MemberEnd() && cands->value.IsArray()) {
      for (const rapidjson::Value& c : cands->value.GetArray()) {
        if (c.IsObject()) e.candidates.push_back({GetString(c, "node"), GetString(c, "gtid")});
      }
    }
    auto ms = v.FindMember("duration_ms");
    if (ms != v.MemberEnd() && ms->value.IsInt64()) {
      e.duration = std::chrono::milliseconds(ms->value.GetInt64());
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<FailoverEvent> AppendEvent(std::vector<FailoverEvent> history, FailoverEvent event) {
  history.push_back(std::move(event));
  if (history.size() > kHistoryLimit) {
    history.erase(history.begin(), history.end() - static_cast<ptrdiff_t>(kHistoryLimit));
  }
  return history;
}

std::optional<SystemTime> LastAutomatic(const std::vector<FailoverEvent>& history) {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->Automatic()) return it->time;
  }
  return std::nullopt;
}

std::string SerializeDesignation(const Designation& d) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  StringField(w, "coordinator", d.coordinator);
  StringField(w, "kind", d.kind);
  StringField(w, "old", d.old_primary);
  StringField(w, "candidate", d.candidate);
  StringField(w, "gtid", d.gtid);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Designation> ParseDesignation(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("failover lock value is not a JSON object");
  }
  Designation d;
  d.coordinator = GetString(doc, "coordinator");
  d.kind = GetString(doc, "kind");
  d.old_primary = GetString(doc, "old");
  d.candidate = GetString(doc, "candidate");
  d.gtid = GetString(doc, "gtid");
  return d;
}

}  // namespace manage::cluster
