// The endpoints of `manage serve`, a pure function from a request and the
// cached facts to a response (table-tested in test/unit/serve):
//   GET /primary        200 when this node holds PRIMARY_KEY and is writable
//   GET /replica[?lag=N] 200 when it replicates from the lock holder, both
//                       threads running, read-only, at most N s behind
//                       (default MAX_REPLICA_LAG)
//   GET /read-only[?lag=N] 200 for the primary or such a replica
//   GET /health         200 when mysqld answers
//   GET /node, /cluster JSON: this node; every node (as `manage status --json`)
//   GET /metrics        Prometheus text format
//   GET /               the status page
// HEAD and OPTIONS answer with the same status and no body (HAProxy's
// `option httpchk` sends OPTIONS); any other method is 405; an unknown path
// 404; an unknown or malformed query argument 400. The checks answer 503
// when the facts are older than one health interval. Nothing here changes
// anything, and no answer holds a secret: the facts have none.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/config.h"
#include "ops/counters.h"
#include "serve/facts.h"
#include "serve/http.h"

namespace manage::serve {

struct View {
  const Config* config = nullptr;
  std::shared_ptr<const LocalFacts> local;       // null before the first refresh
  std::shared_ptr<const ClusterFacts> cluster;   // null before the first collection
  std::function<ops::CounterValues()> counters;  // read only for /metrics
  SteadyTime now{};
  std::chrono::system_clock::time_point now_wall{};
};

Response Respond(const Request& request, const View& view);

}  // namespace manage::serve
