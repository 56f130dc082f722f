#include "serve/serve.h"

#include <fmt/format.h>

#include <optional>

#include "serve/endpoints.h"
#include "serve/http_server.h"
#include "serve/refresh.h"
#include "sys/stop_signals.h"

namespace manage::serve {
namespace {

// How long a failed start waits before exiting (ContainerPilot restarts the
// job at once).
constexpr std::chrono::seconds kRetryDelay{5};

// The parts of a running server, started in order and stopped in reverse.
struct Running {
  std::unique_ptr<consul::Consul> local_consul, cluster_consul;
  hooks::Deps local_deps, cluster_deps;
  std::optional<LocalReader> reader;
  FactsCache cache;
  std::unique_ptr<Ticker> local_ticker, cluster_ticker;
  std::unique_ptr<HttpServer> server;
};

Status Start(hooks::Deps& deps, Running& r) {
  if (!deps.new_consul) return Status::Internal("serve needs Consul clients of its own");
  const Config& c = *deps.config;
  auto interval = c.health.interval;
  r.local_consul = deps.new_consul();
  r.cluster_consul = deps.new_consul();
  r.local_deps = deps;
  r.local_deps.consul = r.local_consul.get();
  r.local_deps.log = deps.log.With("thread", "local");
  r.cluster_deps = deps;
  r.cluster_deps.consul = r.cluster_consul.get();
  r.cluster_deps.log = deps.log.With("thread", "cluster");
  r.reader.emplace(r.local_deps);
  // The first facts before the first request.
  r.cache.SetLocal(r.reader->Read());
  r.local_ticker =
      std::make_unique<Ticker>(interval / 2, [&r] { r.cache.SetLocal(r.reader->Read()); });
  r.cluster_ticker =
      std::make_unique<Ticker>(interval, [&r] { r.cache.SetCluster(ReadCluster(r.cluster_deps)); });
  const hooks::Deps* answer_deps = &deps;
  auto server = HttpServer::Start(
      c.serve.address, c.serve.port, ServerLimits{},
      [answer_deps, &r](const Request& req) { return Answer(*answer_deps, r.cache, req); },
      deps.log.With("thread", "http"));
  if (!server.ok()) return server.status();
  r.server = std::move(*server);
  deps.log.Info("serving", {{"address", c.serve.address},
                            {"port", std::to_string(r.server->port())},
                            {"refresh_ms", std::to_string((interval / 2).count())}});
  return Status::Ok();
}

}  // namespace

Response Answer(const hooks::Deps& deps, const FactsCache& cache, const Request& request) {
  View view;
  view.config = deps.config;
  view.local = cache.Local();
  view.cluster = cache.Cluster();
  ops::Counters* counters = deps.counters;
  view.counters = [counters] { return counters ? counters->Read() : ops::CounterValues{}; };
  view.now = deps.clock->Monotonic();
  view.now_wall = deps.clock->Now();
  return Respond(request, view);
}

Status Serve(hooks::Deps& deps, const hooks::Args& args) {
  MANAGE_RETURN_IF_ERROR(hooks::CheckArgs(args, {}));
  // Before any thread starts, so that only Wait takes the stop signals.
  sys::StopSignals signals;
  Running running;
  Status started = Start(deps, running);
  if (!started.ok()) {
    deps.log.Warn("cannot serve; exiting in a few seconds");
    signals.Wait(kRetryDelay);
    return started;
  }
  while (!signals.Wait(std::chrono::seconds(3600))) {
  }
  deps.log.Info("stopping");
  return Status::Ok();
}

}  // namespace manage::serve
