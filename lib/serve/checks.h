// The load balancer checks of `manage serve`, as pure functions of the facts
// (table-tested in test/unit/serve). Each answers ok or why not. Facts older
// than the bound never pass: a node that cannot show it is fit now is not.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "serve/facts.h"

namespace manage::serve {

struct Verdict {
  bool ok = false;
  std::string reason;  // why not, or what it is when ok
};

// Fresh when the refresh that produced `facts` began at most `max_age` before `now`.
Verdict CheckFresh(const LocalFacts& facts, SteadyTime now, std::chrono::milliseconds max_age);

// /health: mysqld answers.
Verdict CheckHealth(const LocalFacts& facts);
// /primary: this node's session holds PRIMARY_KEY and mysqld is writable.
Verdict CheckPrimary(const LocalFacts& facts);
// /replica: replicates from the lock holder (its registered address) with
// both threads running, is read-only, and lags at most `max_lag_seconds`.
Verdict CheckReplica(const LocalFacts& facts, int64_t max_lag_seconds);
// /read-only: consistent reads: the primary, or a replica as CheckReplica.
Verdict CheckReadOnly(const LocalFacts& facts, int64_t max_lag_seconds);

}  // namespace manage::serve
