// /metrics: the samples a dashboard relies on, in Prometheus's text format.
#include "serve/metrics.h"

#include <catch2/catch.hpp>

#include "unit/serve/facts_fixture.h"

namespace manage::serve {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST_CASE("a replica's metrics: role, threads, lag, GTID per domain, hooks") {
  LocalFacts f = Replica();
  f.gtid = "0-1-42,7-3-9";
  MetricsInput in;
  in.service = "mysql";
  in.node = "mysql-n2";
  in.version = "1.2.3";
  in.local = &f;
  in.fresh = true;
  in.replica_ok = in.read_only_ok = in.health_ok = true;
  in.counters.hooks[static_cast<int>(ops::Hook::kHealth)] = {10, 2, 36000, 3000, 1700000000500};
  in.counters.snapshots_stored = 4;
  std::string m = FormatMetrics(in);
  CHECK(m.starts_with("# HELP manage_node_info "));
  CHECK(Has(m, "manage_node_info{service=\"mysql\",node=\"mysql-n2\",version=\"1.2.3\"} 1"));
  CHECK(Has(m, "manage_role{role=\"replica\"} 1"));
  CHECK(Has(m, "manage_role{role=\"primary\"} 0"));
  CHECK(Has(m, "manage_check_passing{check=\"primary\"} 0"));
  CHECK(Has(m, "manage_check_passing{check=\"replica\"} 1"));
  CHECK(Has(m, "manage_read_only 1"));
  CHECK(Has(m, "manage_replication_thread_running{thread=\"io\"} 1"));
  CHECK(Has(m, "manage_replication_lag_seconds 2"));
  CHECK(Has(m, "manage_gtid_seqno{domain=\"0\"} 42"));
  CHECK(Has(m, "manage_gtid_seqno{domain=\"7\"} 9"));
  CHECK(Has(m, "manage_primary_lock_holder{node=\"mysql-n1\"} 1"));
  CHECK(Has(m, "manage_hook_runs_total{hook=\"health\",result=\"ok\"} 10"));
  CHECK(Has(m, "manage_hook_runs_total{hook=\"health\",result=\"failed\"} 2"));
  CHECK(Has(m, "manage_hook_duration_seconds_sum{hook=\"health\"} 0.036"));
  CHECK(Has(m, "manage_hook_duration_seconds_count{hook=\"health\"} 12"));
  CHECK(Has(m, "manage_hook_last_run_timestamp_seconds{hook=\"health\"} 1700000000.5"));
  CHECK(Has(m, "manage_snapshots_stored_total 4"));
  CHECK(Has(m, "# TYPE manage_hook_duration_seconds summary"));
  CHECK(m.find("manage_snapshot_last_") == std::string::npos);  // no cluster facts yet
}

TEST_CASE("cluster metrics: newest snapshot and failover history by kind") {
  ClusterFacts c;
  c.report = ops::StatusReport{};
  ops::SnapshotRow s;
  s.size = 1000;
  s.raw_size = 5000;
  s.duration_ms = 2500;
  s.time_unix = 1700000000;
  c.report->snapshot = s;
  c.report->history = {{"", "failover", "a", "b", "", 9000, {}, 100},
                       {"", "switchover", "b", "a", "", 700, {}, 200},
                       {"", "failover", "a", "c", "", 8000, {}, 300}};
  ops::NodeRow passing, failing;
  passing.healthy = true;
  c.report->nodes = {passing, failing};
  MetricsInput in;
  in.cluster = &c;
  std::string m = FormatMetrics(in);
  CHECK(Has(m, "manage_snapshot_last_size_bytes 1000"));
  CHECK(Has(m, "manage_snapshot_last_raw_size_bytes 5000"));
  CHECK(Has(m, "manage_snapshot_last_duration_seconds 2.5"));
  CHECK(Has(m, "manage_snapshot_last_timestamp_seconds 1700000000"));
  CHECK(Has(m, "manage_failover_history_events{kind=\"failover\"} 2"));
  CHECK(Has(m, "manage_failover_history_events{kind=\"switchover\"} 1"));
  CHECK(Has(m, "manage_failover_last_timestamp_seconds{kind=\"failover\"} 300"));
  CHECK(Has(m, "manage_failover_last_duration_seconds{kind=\"failover\"} 8"));
  CHECK(Has(m, "manage_cluster_nodes{health=\"failing\"} 1"));
  CHECK(m.find("manage_role") == std::string::npos);  // no local facts
}

TEST_CASE("label values are escaped") {
  LocalFacts f = Replica();
  f.lock_holder = "a\"b\\c\nd";
  MetricsInput in;
  in.local = &f;
  CHECK(FormatMetrics(in).find("manage_primary_lock_holder{node=\"a\\\"b\\\\c\\nd\"} 1") !=
        std::string::npos);
}

}  // namespace
}  // namespace manage::serve
