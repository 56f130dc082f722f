// on_change: ContainerPilot runs it when the set of passing
// ${SERVICE_NAME}-primary instances changes. When a primary holds the lock, a
// replica makes sure it replicates from it (EnsureReplicatingFrom never
// restarts replication that is already right, and never runs CHANGE MASTER
// while replication runs). When the advertised primary went away, it waits for
// its lock to come free and fails over (failover.h).
#include "hooks/failover.h"
#include "hooks/hooks.h"

namespace manage::hooks {

Status OnChange(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {}));
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  FailoverOptions options;
  options.primary_gone = true;
  return RunFailover(deps, state, options);
}

Status Failover(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {"--force"}));
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  FailoverOptions options;
  options.forced = HasFlag(args, "--force");
  return RunFailover(deps, state, options);
}

}  // namespace manage::hooks
