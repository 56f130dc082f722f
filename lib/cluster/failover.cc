#include "cluster/failover.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "core/utc_time.h"

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

namespace {

// "" when `c` has every transaction any reachable candidate received, its own
// relay log included; else whose it lacks.
Result<std::string> MissingFrom(mysql::Flavor flavor, const Candidate& c,
                                const std::vector<const Candidate*>& reachable) {
  for (const Candidate* other : reachable) {
    if (other == &c) continue;
    auto subset = mysql::GtidIsSubset(flavor, other->received, c.executed);
    if (!subset.ok()) return subset.status();
    if (!*subset) return other->node;
  }
  auto own = mysql::GtidIsSubset(flavor, c.received, c.executed);
  if (!own.ok()) return own.status();
  return *own ? std::string() : c.node + "'s own relay log";
}

const Candidate* Best(std::vector<const Candidate*> among) {
  std::sort(among.begin(), among.end(),
            [](const Candidate* a, const Candidate* b) { return RanksBefore(*a, *b); });
  return among.front();
}

}  // namespace

Result<CandidateChoice> ChooseCandidate(mysql::Flavor flavor, const std::vector<Candidate>& all) {
  std::vector<const Candidate*> reachable;
  for (const Candidate& c : all) {
    if (c.reachable) reachable.push_back(&c);
  }
  if (reachable.empty()) {
    return Status::FailedPrecondition("no candidate could be reached");
  }
  std::vector<const Candidate*> leaders;  // have everything, and may lead
  std::vector<const Candidate*> sources;  // have everything, NO_FAILOVER: may be caught up from
  std::vector<const Candidate*> behind;   // may lead once caught up from a source
  std::vector<std::string> rejected;
  for (const Candidate* c : reachable) {
    auto missing = MissingFrom(flavor, *c, reachable);
    if (!missing.ok()) return missing.status();
    if (!c->errant.empty()) {
      rejected.push_back(fmt::format("{} has errant transactions {}", c->node, c->errant));
    } else if (!missing->empty()) {
      rejected.push_back(fmt::format("{} lacks transactions of {}", c->node, *missing));
      if (!c->no_failover && c->caught_up) behind.push_back(c);
    } else if (c->no_failover) {
      rejected.push_back(fmt::format("{} has NO_FAILOVER", c->node));
      if (c->caught_up) sources.push_back(c);
    } else if (!c->caught_up) {
      rejected.push_back(fmt::format("{} did not apply its relay log in time", c->node));
    } else {
      leaders.push_back(c);
    }
  }
  if (!leaders.empty()) {
    const Candidate& best = *Best(leaders);
    std::string reason = fmt::format("most advanced ({}), priority {}{}",
                                     best.executed.empty() ? "empty" : best.executed, best.priority,
                                     best.semi_sync ? ", semi-sync replica" : "");
    if (leaders.size() > 1) reason += fmt::format(", first of {} equally advanced", leaders.size());
    return CandidateChoice{best.node, best.executed, reason, ""};
  }
  if (!sources.empty() && !behind.empty()) {
    // Only NO_FAILOVER nodes have everything: the best node that may lead
    // first catches up from one of them (orchestrator's regroup).
    const Candidate& target = *Best(behind);
    const Candidate& source = *Best(sources);
    return CandidateChoice{target.node, source.executed,
                           fmt::format("priority {}; catches up first from {}, which has every "
                                       "transaction ({}) but NO_FAILOVER",
                                       target.priority, source.node, source.executed),
                           source.node};
  }
  std::string why = "no candidate has every transaction and may lead";
  for (const std::string& r : rejected) why += "; " + r;
  return Status::FailedPrecondition(why);
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

std::string SerializeHistory(const std::vector<FailoverEvent>& events) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartArray();
  for (const FailoverEvent& e : events) {
    w.StartObject();
    StringField(w, "time", FormatUtcTime(e.time));
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
    auto time = ParseUtcTime(GetString(v, "time"));
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
  StringField(w, "source", d.source);
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
  d.source = GetString(doc, "source");
  return d;
}

}  // namespace manage::cluster
