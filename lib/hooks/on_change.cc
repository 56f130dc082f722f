// on_change: ContainerPilot runs it when the set of passing
// ${SERVICE_NAME}-primary instances changes. When a primary holds the lock, a
// replica makes sure it replicates from it (EnsureReplicatingFrom never
// restarts replication that is already right). When no node holds the lock,
// this node waits: choosing and promoting a new primary is the failover
// coordinator's job, and a node never promotes itself here.
#include <fmt/format.h>

#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "hooks/replica.h"

namespace manage::hooks {

Status OnChange(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {}));
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  if (!view->held) {
    deps.log.Warn("no node holds the primary lock", {{"key", deps.config->keys.primary_key}});
    return Status::Ok();
  }
  std::string mine = state.Session();
  if (!mine.empty() && view->holder_session == mine) {
    deps.log.Info("this node is the primary; nothing to change");
    return Status::Ok();
  }
  if (view->value == deps.config->NodeName()) return Status::Ok();
  auto source = FindNode(deps, view->value);
  if (!source.ok()) return source.status().Annotate("finding the primary");
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  if (state.LastRole() == cluster::Role::kUnknown && !state.Bootstrapped() &&
      state.DataOrigin() != cluster::Origin::kSnapshot) {
    // Not yet part of the cluster: health decides this node's first role.
    return Status::Ok();
  }
  return EnsureReplicatingFrom(deps, *db, state, *source);
}

}  // namespace manage::hooks
