// The subcommands' entry points. Each returns OK or the reason it failed;
// main() logs that once and maps it to an exit code.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "hooks/deps.h"

namespace manage::hooks {

using Args = std::vector<std::string>;

Status PreStart(Deps& deps, const Args& args);
Status Health(Deps& deps, const Args& args);
Status OnChange(Deps& deps, const Args& args);
Status Failover(Deps& deps, const Args& args);
Status Switchover(Deps& deps, const Args& args);
Status PreStop(Deps& deps, const Args& args);
Status Snapshot(Deps& deps, const Args& args);
Status ShowStatus(Deps& deps, const Args& args);
Status Backup(Deps& deps, const Args& args);
Status Archive(Deps& deps, const Args& args);

// InvalidArgument naming the first argument not in `allowed`.
Status CheckArgs(const Args& args, const std::vector<std::string>& allowed);
bool HasFlag(const Args& args, const std::string& flag);

}  // namespace manage::hooks
