// `manage serve`: HTTP endpoints for load balancers, Prometheus and people
// (endpoints.h), run by ContainerPilot as a job of its own and restarted
// when it exits; mysqld never depends on it.
//
// Threads and who holds what:
//   - the local refresher reads this node's facts (refresh.h) every half
//     health interval, with its own mysqld connection and Consul client;
//   - the cluster refresher collects every node's facts (as `manage status`)
//     every health interval, with its own Consul client and connections;
//   - libmicrohttpd's one polling thread answers requests from the newest
//     facts in the FactsCache (a mutex held only to copy two pointers).
// No request ever waits on mysqld or Consul, so a slow one cannot pile up
// threads or connections: it only makes the facts older, and facts older
// than one health interval fail every check (503). Nothing here writes to
// mysqld, Consul or the state dir (except creating the counters file).
#pragma once

#include <memory>

#include "core/status.h"
#include "hooks/deps.h"
#include "hooks/hooks.h"
#include "serve/facts.h"
#include "serve/http.h"

namespace manage::serve {

// Runs until SIGTERM, SIGINT or SIGHUP. When it cannot start (the address is
// taken, the library is missing) it waits a few seconds before failing, so
// that ContainerPilot's restarts do not spin.
Status Serve(hooks::Deps& deps, const hooks::Args& args);

// The answer to `request` from `cache` now (the HTTP server's handler).
Response Answer(const hooks::Deps& deps, const FactsCache& cache, const Request& request);

}  // namespace manage::serve
