#include "hooks/consul_faults.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "cluster/registration.h"
#include "mysql/replica_status.h"

namespace manage::hooks {
namespace {

using std::chrono::milliseconds;

std::string CheckId(const Config& config) { return "service:" + config.NodeName(); }

// Would one more Consul request end within kProofDeadline of the pass's start?
// Then the pass ends within kPassBound (P), as one that sends none: the lease
// and the fencing argument count on the next pass starting at most max(I, P)
// after this one.
bool HeartbeatFits(Deps& deps, milliseconds pass_start) {
  return deps.clock->SinceBoot() - pass_start + kHealthConsulTimeout <= kProofDeadline;
}

std::optional<milliseconds> ParseMillis(const std::string& text) {
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || ms < 0) {
    return std::nullopt;
  }
  return milliseconds(ms);
}

}  // namespace

Status RegisterNodeService(Deps& deps) {
  Status s = deps.consul->RegisterAgentService(cluster::NodeService(*deps.config));
  if (s.ok()) {
    deps.log.Info("registered this node's service as ContainerPilot does",
                  {{"service", deps.config->NodeName()}});
  }
  return s;
}

std::optional<milliseconds> LockMissingFor(Deps& deps, cluster::NodeState& state,
                                           const cluster::LockView& view) {
  const std::string recorded = state.LockMissingSince();
  if (view.present) {
    if (!recorded.empty()) (void)state.ClearLockMissingSince();
    return std::nullopt;
  }
  const milliseconds now = deps.clock->SinceBoot();
  auto since = ParseMillis(recorded);
  if (!since || *since > now) {  // first sighting (or a record from before a reboot)
    if (state.LastRole() != cluster::Role::kUnknown) {
      deps.log.Warn("the primary lock is missing from Consul: it lost its state",
                    {{"key", deps.config->keys.primary_key}});
    }
    (void)state.SetLockMissingSince(std::to_string(now.count()));
    return milliseconds(0);
  }
  return now - *since;
}

bool OwnLeaseRunning(Deps& deps, const cluster::NodeState& state) {
  return cluster::LeaseRunning(cluster::ParseLeaseProof(state.LeaseProof()),
                               deps.clock->SinceBoot(), cluster::LeaseTimingOf(*deps.config));
}

Result<bool> OtherNodesPassing(Deps& deps) {
  auto passing = deps.consul->Health(deps.config->service_name, /*passing_only=*/true);
  if (!passing.ok()) return passing.status().Annotate("listing the passing nodes of the service");
  for (const consul::ServiceInstance& instance : *passing) {
    if (instance.id != deps.config->NodeName()) return true;
  }
  return false;
}

bool LockHolderChanged(cluster::NodeState& state, const cluster::LockView& view) {
  if (!view.held) return false;
  const std::string seen = std::to_string(view.create_index) + " " + view.holder_session;
  const std::string recorded = state.LockHolderSeen();
  if (recorded == seen) return false;
  (void)state.SetLockHolderSeen(seen);
  return !recorded.empty();
}

bool KeptByLease(Deps& deps, cluster::NodeState& state, LocalDb& db, const Status& consul_error,
                 milliseconds pass_start, LeasePass pass) {
  // No answer (refused, unreachable, timed out) or a 5xx such as "No cluster
  // leader". Any answer that says something about the lock is no excuse.
  if (consul_error.code() != Code::kUnavailable && consul_error.code() != Code::kDeadlineExceeded) {
    return false;
  }
  if (state.LastRole() != cluster::Role::kPrimary) return false;
  auto read_only = mysql::ReadReadOnly(*db.conn);
  if (!read_only.ok() || *read_only) return false;  // a lease keeps, never grants
  const cluster::LeaseTiming timing = cluster::LeaseTimingOf(*deps.config);
  auto proof = cluster::ParseLeaseProof(state.LeaseProof());
  cluster::LeaseDecision d =
      cluster::DecideLease(proof, pass_start, deps.clock->SinceBoot(), timing);
  if (!d.keep) {
    deps.log.Warn("Consul does not answer and the primary's lease does not cover this pass",
                  {{"why", d.reason}, {"error", consul_error.message()}});
    return false;
  }
  if (pass == LeasePass::kNode) {
    // Through the same path as a proving pass: it disarms the watchdog (false
    // if it fired: then this pass is fenced), and extends mysqld's write
    // lease no further than this lease proves, less the fence budget for the
    // moment between reading the clock and mysqld running the statement.
    const milliseconds left =
        cluster::EarliestTakeover(*proof, timing) - deps.clock->SinceBoot() - kFenceBudget;
    Status kept = MakeWritable(deps, db, std::min(deps.config->WriteLease(), left),
                               "the primary's lease covers this pass");
    if (!kept.ok()) {
      deps.log.Warn("not kept writable under the lease", {{"error", kept.message()}});
      return false;
    }
  }
  deps.log.Warn("Consul does not answer; staying writable under the primary's lease",
                {{"why", d.reason}, {"error", consul_error.message()}});
  const milliseconds sent = deps.clock->SinceBoot();
  if (!HeartbeatFits(deps, pass_start)) {
    deps.log.Warn("no time left in this pass to heartbeat the check");
  } else if (pass == LeasePass::kPrimary) {
    (void)deps.consul->UpdateTtlCheck("service:" + cluster::PrimaryService(*deps.config).id,
                                      "passing", "ok");
  } else if (deps.consul->UpdateTtlCheck(CheckId(*deps.config), "passing", "ok").ok()) {
    (void)state.SetLeaseProof(cluster::FormatLeaseProof({proof->renewed, sent}));
  }
  return true;
}

void RecordLeaseProof(Deps& deps, cluster::NodeState& state, milliseconds pass_start,
                      milliseconds renewed) {
  if (!cluster::LeaseTimingOf(*deps.config).enabled) return;
  if (!HeartbeatFits(deps, pass_start)) {
    deps.log.Warn("no time left in this pass to heartbeat the check; the lease is not renewed");
    return;
  }
  const milliseconds sent = deps.clock->SinceBoot();
  Status s = deps.consul->UpdateTtlCheck(CheckId(*deps.config), "passing", "ok");
  if (s.ok()) {
    (void)state.SetLeaseProof(cluster::FormatLeaseProof({renewed, sent}));
    return;
  }
  deps.log.Warn("could not heartbeat this node's check", {{"error", s.message()}});
  if (s.code() == Code::kNotFound) {
    // The agent lost the service ContainerPilot registered: it never does again.
    (void)RegisterNodeService(deps);
    (void)deps.consul->RegisterAgentService(cluster::PrimaryService(*deps.config));
  }
}

}  // namespace manage::hooks
