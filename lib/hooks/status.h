// The facts `manage status` shows, collected from Consul and every node's
// mysqld (over TCP, as the replication user). `manage serve` answers /cluster
// with the same facts. Changes nothing.
#pragma once

#include "hooks/deps.h"
#include "ops/status_report.h"

namespace manage::hooks {

// Fails only when PRIMARY_KEY or the service's instances cannot be read from
// Consul; a node that cannot be read has its error in its row.
Result<ops::StatusReport> CollectStatus(Deps& deps);

}  // namespace manage::hooks
