// FAILOVER_HISTORY_KEY: a JSON list of the last failovers and switchovers
// (cluster/failover.h formats it), appended with check-and-set.
#include "hooks/failover.h"
#include "hooks/failover_parts.h"

namespace manage::hooks {
namespace {

Result<std::vector<cluster::FailoverEvent>> ReadHistoryAt(Deps& deps, uint64_t* index) {
  *index = 0;
  auto kv = deps.consul->Get(deps.config->failover.history_key);
  if (!kv.ok()) {
    if (kv.status().code() == Code::kNotFound) return std::vector<cluster::FailoverEvent>{};
    return kv.status();
  }
  *index = kv->modify_index;
  return cluster::ParseHistory(kv->value);
}

}  // namespace

void RecordEvent(Deps& deps, const cluster::FailoverEvent& event) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint64_t index = 0;
    auto history = ReadHistoryAt(deps, &index);
    if (!history.ok()) {
      deps.log.Warn("failover history unreadable; starting it anew",
                    {{"error", history.status().message()}});
      history = std::vector<cluster::FailoverEvent>{};
    }
    auto written = deps.consul->CheckAndSet(
        deps.config->failover.history_key,
        cluster::SerializeHistory(cluster::AppendEvent(std::move(*history), event)), index);
    if (written.ok() && *written) return;
    if (!written.ok()) {
      deps.log.Warn("could not record the failover event", {{"error", written.status().message()}});
      return;
    }
  }
  deps.log.Warn("could not record the failover event: too many concurrent writers");
}

Result<std::vector<cluster::FailoverEvent>> ReadFailoverHistory(Deps& deps) {
  uint64_t index = 0;
  return ReadHistoryAt(deps, &index);
}

}  // namespace manage::hooks
