#include "serve/endpoints.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

#include "ops/json_object.h"
#include "ops/status_report.h"
#include "serve/checks.h"
#include "serve/metrics.h"
#include "serve/status_page.h"

namespace manage::serve {
namespace {

constexpr char kAllow[] = "GET, HEAD, OPTIONS";
constexpr char kJson[] = "application/json";
constexpr int64_t kMaxLag = 86400;

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

// ?lag=N: N whole seconds, 0..86400. nullopt (and *error) when malformed.
std::optional<int64_t> ParseLag(const std::string& text, std::string* error) {
  bool digits = !text.empty() && text.size() <= 5;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  int64_t value = digits ? std::stoll(text) : -1;
  if (!digits || value > kMaxLag) {
    *error = fmt::format("lag must be whole seconds from 0 to {}", kMaxLag);
    return std::nullopt;
  }
  return value;
}

// The query of a check: only `lag` where `lag_allowed`, at most once.
// nullopt (and *error) on anything else.
std::optional<int64_t> ReadQuery(const Request& req, bool lag_allowed, int64_t fallback,
                                 std::string* error) {
  std::optional<int64_t> lag;
  for (const auto& [key, value] : req.query) {
    if (key != "lag" || !lag_allowed) {
      *error = "unknown query argument '" + key + "'";
      return std::nullopt;
    }
    if (lag) {
      *error = "lag given twice";
      return std::nullopt;
    }
    lag = ParseLag(value, error);
    if (!lag) return std::nullopt;
  }
  return lag.value_or(fallback);
}

Response FromVerdict(const Verdict& v) {
  return Text(v.ok ? 200 : 503, (v.ok ? "ok: " : "unavailable: ") + v.reason);
}

std::chrono::milliseconds MaxAge(const View& view) { return view.config->health.interval; }

Verdict Fresh(const View& view) {
  if (!view.local) return {false, "no facts read yet"};
  return CheckFresh(*view.local, view.now, MaxAge(view));
}

// What every check answers now, with the default lag: false unless fresh.
struct Passing {
  bool fresh = false, primary = false, replica = false, read_only = false, health = false;
};

Passing PassingNow(const View& view, int64_t default_lag) {
  Passing p;
  p.fresh = Fresh(view).ok;
  if (!p.fresh) return p;
  const LocalFacts& f = *view.local;
  p.primary = CheckPrimary(f).ok;
  p.replica = CheckReplica(f, default_lag).ok;
  p.read_only = p.primary || p.replica;  // CheckReadOnly's rule
  p.health = CheckHealth(f).ok;
  return p;
}

double AgeSeconds(SteadyTime now, SteadyTime taken) {
  return std::chrono::duration<double>(now - taken).count();
}

std::string RoleOf(const LocalFacts& f) {
  if (f.lock_mine) return "primary";
  return f.replica.configured ? "replica" : "unassigned";
}

// This node's row as `manage status` shows a node, from the local facts.
ops::NodeRow LocalRow(const View& view) {
  const LocalFacts& f = *view.local;
  ops::NodeRow row;
  row.name = view.config->NodeName();
  row.address = view.config->address;
  row.port = view.config->mysql.port;
  row.role = RoleOf(f);
  row.healthy = f.passing.value_or(false);
  row.gtid = f.gtid;
  if (f.replica.configured) row.lag_seconds = f.replica.seconds_behind;
  row.read_only = f.read_only;
  row.error = f.mysqld_up ? "" : f.mysqld_error;
  return row;
}

void WriteReplication(ops::JsonObject& o, rapidjson::Writer<rapidjson::StringBuffer>& w,
                      const mysql::ReplicaStatus& r) {
  w.Key("replication");
  if (!r.configured) {
    w.Null();
    return;
  }
  w.StartObject();
  o.Str("source", fmt::format("{}:{}", r.source_host, r.source_port));
  o.Str("io_running", mysql::ThreadStateName(r.io_running));
  o.Str("sql_running", mysql::ThreadStateName(r.sql_running));
  o.Maybe("lag_seconds", r.seconds_behind);
  o.StrOrNull("last_io_error", r.last_io_error).StrOrNull("last_sql_error", r.last_sql_error);
  w.EndObject();
}

Response Node(const View& view, int64_t default_lag) {
  if (!view.local) return Text(503, "unavailable: no facts read yet");
  const LocalFacts& f = *view.local;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  ops::JsonObject o(w);
  w.StartObject();
  o.Str("service", view.config->service_name).StrOrNull("primary", f.lock_holder);
  w.Key("node");
  w.StartObject();
  ops::WriteNodeMembers(o, LocalRow(view));
  w.EndObject();
  WriteReplication(o, w, f.replica);
  o.Bool("consul_up", f.consul_up).StrOrNull("consul_error", f.consul_error);
  Passing passing = PassingNow(view, default_lag);
  w.Key("checks");
  w.StartObject();
  o.Bool("fresh", passing.fresh).Bool("primary", passing.primary);
  o.Bool("replica", passing.replica).Bool("read_only", passing.read_only);
  o.Bool("health", passing.health);
  w.EndObject();
  o.Int("facts_age_ms", static_cast<int64_t>(AgeSeconds(view.now, f.taken) * 1000));
  const ops::StatusReport* report =
      view.cluster && view.cluster->report ? &*view.cluster->report : nullptr;
  w.Key("snapshot");
  ops::WriteSnapshot(w, report ? report->snapshot : std::nullopt);
  w.Key("history");
  ops::WriteHistory(w, report ? report->history : std::vector<ops::HistoryRow>{});
  w.EndObject();
  Response r;
  r.content_type = kJson;
  r.body = std::string(buf.GetString(), buf.GetSize()) + "\n";
  return r;
}

Response Cluster(const View& view) {
  if (!view.cluster || !view.cluster->report) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    ops::JsonObject o(w);
    w.StartObject();
    o.Str("error", "cannot read the cluster: " +
                       (view.cluster ? view.cluster->error : std::string("not collected yet")));
    w.EndObject();
    Response r = Text(503, std::string(buf.GetString(), buf.GetSize()));
    r.content_type = kJson;
    return r;
  }
  Response r;
  r.content_type = kJson;
  r.body = ops::FormatJson(*view.cluster->report);
  r.headers.emplace_back(
      "Age", std::to_string(static_cast<int64_t>(AgeSeconds(view.now, view.cluster->taken))));
  return r;
}

Response Metrics(const View& view, int64_t default_lag) {
  MetricsInput in;
  in.service = view.config->service_name;
  in.node = view.config->NodeName();
  in.version = MANAGE_VERSION;
  in.local = view.local.get();
  in.cluster = view.cluster.get();
  if (view.counters) in.counters = view.counters();
  Passing passing = PassingNow(view, default_lag);
  in.fresh = passing.fresh;
  in.primary_ok = passing.primary;
  in.replica_ok = passing.replica;
  in.read_only_ok = passing.read_only;
  in.health_ok = passing.health;
  if (view.local) in.local_age_seconds = AgeSeconds(view.now, view.local->taken);
  if (view.cluster) in.cluster_age_seconds = AgeSeconds(view.now, view.cluster->taken);
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = FormatMetrics(in);
  return r;
}

enum class Check { kPrimary, kReplica, kReadOnly, kHealth };

Response RunCheck(const View& view, Check check, int64_t lag) {
  Verdict fresh = Fresh(view);
  if (!fresh.ok) return FromVerdict(fresh);
  const LocalFacts& f = *view.local;
  switch (check) {
    case Check::kPrimary:
      return FromVerdict(CheckPrimary(f));
    case Check::kReplica:
      return FromVerdict(CheckReplica(f, lag));
    case Check::kReadOnly:
      return FromVerdict(CheckReadOnly(f, lag));
    case Check::kHealth:
      return FromVerdict(CheckHealth(f));
  }
  return Text(500, "unknown check");
}

std::optional<Check> CheckFor(const std::string& path) {
  if (path == "/primary") return Check::kPrimary;
  if (path == "/replica") return Check::kReplica;
  if (path == "/read-only") return Check::kReadOnly;
  if (path == "/health") return Check::kHealth;
  return std::nullopt;
}

Response Route(const Request& req, const View& view) {
  const int64_t default_lag = view.config->max_replica_lag.count();
  std::optional<Check> check = CheckFor(req.path);
  bool known = check || req.path == "/" || req.path == "/node" || req.path == "/cluster" ||
               req.path == "/metrics";
  if (!known) return Text(404, "not found: " + req.path);
  bool lag_allowed = check == Check::kReplica || check == Check::kReadOnly;
  std::string error;
  std::optional<int64_t> lag = ReadQuery(req, lag_allowed, default_lag, &error);
  if (!lag) return Text(400, "bad request: " + error);
  if (check) return RunCheck(view, *check, *lag);
  if (req.path == "/node") return Node(view, default_lag);
  if (req.path == "/cluster") return Cluster(view);
  if (req.path == "/metrics") return Metrics(view, default_lag);
  Response page;
  page.content_type = "text/html; charset=utf-8";
  page.body = StatusPage(view.config->service_name, view.config->health.interval);
  return page;
}

}  // namespace

Response Respond(const Request& req, const View& view) {
  bool options = req.method == "OPTIONS";
  if (req.method != "GET" && req.method != "HEAD" && !options) {
    Response r = Text(405, "method not allowed: " + req.method);
    r.headers.emplace_back("Allow", kAllow);
    return r;
  }
  Response r = Route(req, view);
  if (options) {
    r.body.clear();
    r.headers.emplace_back("Allow", kAllow);
  }
  return r;
}

}  // namespace manage::serve
