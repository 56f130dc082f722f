#include "serve/metrics.h"

#include <fmt/format.h>

#include <map>
#include <utility>
#include <vector>

#include "mysql/gtid.h"

namespace manage::serve {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Label values escaped as the text format wants: backslash, quote, newline.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Writer {
 public:
  // Starts a family: its HELP and TYPE lines.
  Writer& Family(const std::string& name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    return *this;
  }
  Writer& Sample(const std::string& name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, Escape(labels[i].second));
      }
      out_ += '}';
    }
    out_ += fmt::format(" {}\n", value);
    return *this;
  }
  // A family of one sample without labels.
  Writer& Gauge(const std::string& name, const char* help, double value) {
    return Family(name, "gauge", help).Sample(name, {}, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// The highest sequence number in each domain of a GTID position (MariaDB
// "D-S-N,...", MySQL "uuid:1-N,..."), by domain; empty when it does not parse.
std::map<std::string, uint64_t> SeqnoByDomain(const std::string& gtid) {
  std::map<std::string, uint64_t> out;
  if (auto mariadb = mysql::MariaDbGtidPosition::Parse(gtid); mariadb.ok()) {
    for (const mysql::MariaDbGtid& g : mariadb->gtids()) out[std::to_string(g.domain_id)] = g.seqno;
    return out;
  }
  if (auto mysql_set = mysql::MySqlGtidSet::Parse(gtid); mysql_set.ok()) {
    for (const auto& [key, intervals] : mysql_set->intervals()) {
      std::string domain = key.second.empty() ? key.first : key.first + ":" + key.second;
      if (!intervals.empty()) out[domain] = intervals.back().last;
    }
  }
  return out;
}

void WriteLocal(Writer& w, const MetricsInput& in) {
  const LocalFacts& f = *in.local;
  w.Gauge("manage_facts_age_seconds", "Age of the local facts the endpoints answer from.",
          in.local_age_seconds);
  w.Gauge("manage_mysql_up", "Whether this node's mysqld answered at the last refresh.",
          f.mysqld_up);
  w.Gauge("manage_consul_up", "Whether Consul answered at the last refresh.", f.consul_up);
  std::string role = f.lock_mine ? "primary" : f.replica.configured ? "replica" : "unassigned";
  w.Family("manage_role", "gauge", "This node's role: 1 for the role it has.");
  for (const char* r : {"primary", "replica", "unassigned"}) {
    w.Sample("manage_role", {{"role", r}}, role == r);
  }
  if (f.read_only) w.Gauge("manage_read_only", "mysqld's read_only.", *f.read_only);
  w.Gauge("manage_primary_lock_held", "Whether a session holds PRIMARY_KEY.", f.lock_held);
  if (f.lock_held) {
    w.Family("manage_primary_lock_holder", "gauge", "The node holding PRIMARY_KEY.")
        .Sample("manage_primary_lock_holder", {{"node", f.lock_holder}}, 1);
  }
  w.Gauge("manage_replication_configured", "Whether this node replicates from a source.",
          f.replica.configured);
  if (f.replica.configured) {
    w.Family("manage_replication_thread_running", "gauge",
             "Whether a replication thread runs (1 Yes, 0 No or Connecting).");
    w.Sample("manage_replication_thread_running", {{"thread", "io"}},
             f.replica.io_running == mysql::ThreadState::kYes);
    w.Sample("manage_replication_thread_running", {{"thread", "sql"}},
             f.replica.sql_running == mysql::ThreadState::kYes);
    if (f.replica.seconds_behind) {
      w.Gauge("manage_replication_lag_seconds", "Seconds_Behind_Master of this replica.",
              static_cast<double>(*f.replica.seconds_behind));
    }
  }
  auto seqnos = SeqnoByDomain(f.gtid);
  if (!seqnos.empty()) {
    w.Family("manage_gtid_seqno", "gauge",
             "Highest GTID sequence number applied, per replication domain.");
    for (const auto& [domain, seqno] : seqnos) {
      w.Sample("manage_gtid_seqno", {{"domain", domain}}, static_cast<double>(seqno));
    }
  }
}

void WriteCounters(Writer& w, const ops::CounterValues& c) {
  w.Family("manage_hook_runs_total", "counter",
           "Runs of each hook on this node, by result (failed includes health --primary on "
           "every replica).");
  for (int h = 0; h < ops::kHooks; ++h) {
    const char* hook = ops::HookLabel(static_cast<ops::Hook>(h));
    w.Sample("manage_hook_runs_total", {{"hook", hook}, {"result", "ok"}},
             static_cast<double>(c.hooks[h].ok));
    w.Sample("manage_hook_runs_total", {{"hook", hook}, {"result", "failed"}},
             static_cast<double>(c.hooks[h].failed));
  }
  w.Family("manage_hook_duration_seconds", "summary", "Wall time of each hook's runs.");
  for (int h = 0; h < ops::kHooks; ++h) {
    Labels hook = {{"hook", ops::HookLabel(static_cast<ops::Hook>(h))}};
    w.Sample("manage_hook_duration_seconds_sum", hook, c.hooks[h].duration_us / 1e6);
    w.Sample("manage_hook_duration_seconds_count", hook,
             static_cast<double>(c.hooks[h].ok + c.hooks[h].failed));
  }
  w.Family("manage_hook_last_duration_seconds", "gauge", "Wall time of each hook's last run.");
  for (int h = 0; h < ops::kHooks; ++h) {
    w.Sample("manage_hook_last_duration_seconds",
             {{"hook", ops::HookLabel(static_cast<ops::Hook>(h))}},
             c.hooks[h].last_duration_us / 1e6);
  }
  w.Family("manage_hook_last_run_timestamp_seconds", "gauge",
           "When each hook's last run ended (0: never).");
  for (int h = 0; h < ops::kHooks; ++h) {
    w.Sample("manage_hook_last_run_timestamp_seconds",
             {{"hook", ops::HookLabel(static_cast<ops::Hook>(h))}},
             c.hooks[h].last_end_unix_ms / 1e3);
  }
  w.Family("manage_snapshots_stored_total", "counter",
           "Snapshots this node stored and recorded in LAST_BACKUP_KEY.")
      .Sample("manage_snapshots_stored_total", {}, static_cast<double>(c.snapshots_stored));
  w.Family("manage_store_request_retries_total", "counter",
           "Object store requests that failed and were retried.")
      .Sample("manage_store_request_retries_total", {}, static_cast<double>(c.store_errors));
}

void WriteCluster(Writer& w, const MetricsInput& in) {
  const ops::StatusReport& r = *in.cluster->report;
  w.Gauge("manage_cluster_facts_age_seconds", "Age of the cluster facts (as manage status).",
          in.cluster_age_seconds);
  int passing = 0;
  for (const ops::NodeRow& n : r.nodes) passing += n.healthy ? 1 : 0;
  w.Family("manage_cluster_nodes", "gauge", "Registered nodes of the service, by health.");
  w.Sample("manage_cluster_nodes", {{"health", "passing"}}, passing);
  w.Sample("manage_cluster_nodes", {{"health", "failing"}},
           static_cast<double>(r.nodes.size()) - passing);
  if (r.snapshot) {
    const ops::SnapshotRow& s = *r.snapshot;
    w.Gauge("manage_snapshot_last_timestamp_seconds", "When the newest snapshot was started.",
            static_cast<double>(s.time_unix));
    w.Gauge("manage_snapshot_last_size_bytes", "Stored size of the newest snapshot.",
            static_cast<double>(s.size));
    w.Gauge("manage_snapshot_last_raw_size_bytes",
            "Size of the newest snapshot before compression (0: unknown).",
            static_cast<double>(s.raw_size));
    w.Gauge("manage_snapshot_last_duration_seconds",
            "How long taking the newest snapshot took (0: unknown).", s.duration_ms / 1e3);
  }
  std::map<std::string, std::pair<int, const ops::HistoryRow*>> kinds = {
      {"failover", {0, nullptr}}, {"switchover", {0, nullptr}}};
  for (const ops::HistoryRow& h : r.history) {
    auto& [count, last] = kinds[h.kind];
    ++count;
    last = &h;
  }
  w.Family("manage_failover_history_events", "gauge",
           "Failovers and switchovers in FAILOVER_HISTORY_KEY (it keeps the last 50).");
  for (const auto& [kind, entry] : kinds) {
    w.Sample("manage_failover_history_events", {{"kind", kind}}, entry.first);
  }
  w.Family("manage_failover_last_timestamp_seconds", "gauge",
           "When the newest failover or switchover of each kind happened.");
  for (const auto& [kind, entry] : kinds) {
    if (entry.second) {
      w.Sample("manage_failover_last_timestamp_seconds", {{"kind", kind}},
               static_cast<double>(entry.second->time_unix));
    }
  }
  w.Family("manage_failover_last_duration_seconds", "gauge",
           "How long the newest failover or switchover of each kind took.");
  for (const auto& [kind, entry] : kinds) {
    if (entry.second) {
      w.Sample("manage_failover_last_duration_seconds", {{"kind", kind}},
               entry.second->duration_ms / 1e3);
    }
  }
}

}  // namespace

std::string FormatMetrics(const MetricsInput& in) {
  Writer w;
  w.Family("manage_node_info", "gauge", "This node: service, name and manage's version.")
      .Sample("manage_node_info",
              {{"service", in.service}, {"node", in.node}, {"version", in.version}}, 1);
  w.Gauge("manage_facts_fresh", "Whether the local facts are at most one health interval old.",
          in.fresh);
  w.Family("manage_check_passing", "gauge",
           "What each endpoint answers now: 1 for 200 (replica with MAX_REPLICA_LAG).");
  w.Sample("manage_check_passing", {{"check", "primary"}}, in.primary_ok);
  w.Sample("manage_check_passing", {{"check", "replica"}}, in.replica_ok);
  w.Sample("manage_check_passing", {{"check", "read_only"}}, in.read_only_ok);
  w.Sample("manage_check_passing", {{"check", "health"}}, in.health_ok);
  if (in.local) WriteLocal(w, in);
  WriteCounters(w, in.counters);
  if (in.cluster && in.cluster->report) WriteCluster(w, in);
  return w.Take();
}

}  // namespace manage::serve
