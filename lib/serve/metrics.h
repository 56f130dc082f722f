// /metrics: the facts of `manage serve` in Prometheus's text format (0.0.4),
// named after Prometheus's conventions: the manage_ prefix, base units in the
// name (_seconds, _bytes), _total on counters. Pure.
#pragma once

#include <string>

#include "ops/counters.h"
#include "serve/facts.h"

namespace manage::serve {

struct MetricsInput {
  std::string service, node, version;
  const LocalFacts* local = nullptr;      // null before the first refresh
  const ClusterFacts* cluster = nullptr;  // null before the first collection
  ops::CounterValues counters;
  double local_age_seconds = 0, cluster_age_seconds = 0;
  bool fresh = false;  // the local facts are within the bound
  // What the checks answer now (with the default lag).
  bool primary_ok = false, replica_ok = false, read_only_ok = false, health_ok = false;
};

std::string FormatMetrics(const MetricsInput& in);

}  // namespace manage::serve
