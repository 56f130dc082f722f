// switchover (operators) and pre_stop (ContainerPilot, when the mysqld job is
// stopping): hand the primary role to another node without waiting for a TTL.
// The protocol is in failover.h.
#include <fmt/format.h>

#include <memory>

#include "cluster/primary_lock.h"
#include "hooks/failover.h"
#include "hooks/file_lock.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"

namespace manage::hooks {
namespace {

// "--to NODE": NODE is a node name ("mysql-n2") or its hostname ("n2").
Result<std::string> TargetArg(const Config& config, const Args& args) {
  std::string target;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--to" && i + 1 < args.size()) {
      target = args[++i];
    } else if (args[i].rfind("--to=", 0) == 0) {
      target = args[i].substr(5);
    } else {
      return Status::InvalidArgument(fmt::format("unknown argument '{}'", args[i]));
    }
  }
  if (target.empty() && !args.empty()) return Status::InvalidArgument("--to needs a node name");
  std::string prefix = config.service_name + "-";
  if (!target.empty() && target.rfind(prefix, 0) != 0) target = prefix + target;
  return target;
}

// kHandoverLock, waiting for a health pass that holds it (a few ms; at most
// its Consul and MySQL timeouts).
Result<std::unique_ptr<FileLock>> LockHandover(cluster::NodeState& state) {
  std::string path = state.Path(kHandoverLock);
  auto held = std::make_unique<FileLock>(path);
  if (!held->ok()) return Status::Internal("cannot lock " + path);
  return held;
}

}  // namespace

Status Switchover(Deps& deps, const Args& args) {
  auto target = TargetArg(*deps.config, args);
  if (!target.ok()) return target.status();
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  auto handover = LockHandover(state);
  if (!handover.ok()) return handover.status();
  SwitchoverOptions options;
  options.target = *target;
  return RunSwitchover(deps, state, options);
}

Status PreStop(Deps& deps, const Args& args) {
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {}));
  cluster::NodeState state(deps.fs, deps.config->state_dir);
  // Held through the fallback too: no health pass may undo its fence.
  auto handover = LockHandover(state);
  if (!handover.ok()) return handover.status();
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  std::string mine = state.Session();
  if (!view->held || mine.empty() || view->holder_session != mine) return Status::Ok();
  SwitchoverOptions options;
  options.reason = "clean stop of the primary";
  options.rejoin = false;
  Status handed = RunSwitchover(deps, state, options);
  if (handed.ok()) return handed;
  // Nobody took over (a single node, or the hand-over failed): stop taking
  // writes, and end the session rather than release the lock, so that the
  // key keeps naming this node as the last primary (a failover then leaves it
  // out while it stops) and returns to it after a restart if nobody else leads.
  deps.log.Warn("no hand-over; fencing and ending the primary session",
                {{"reason", handed.message()}});
  auto db = ConnectLocal(deps);
  if (db.ok()) (void)EnsureReadOnly(deps, *db, true, "clean stop");
  if (!mine.empty()) (void)deps.consul->DestroySession(mine);
  (void)state.ClearSession();
  return handed;
}

}  // namespace manage::hooks
