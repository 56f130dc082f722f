#include "hooks/errant.h"

#include <fmt/format.h>

#include "cluster/errant.h"
#include "cluster/flashback.h"
#include "hooks/failover.h"
#include "hooks/flashback.h"
#include "mysql/replication_sql.h"

namespace manage::hooks {
namespace {

// The errant GTIDs themselves, read from this node's newest binlogs (they are
// its last transactions); the ranges when the binlogs no longer hold them.
std::string ListErrantGtids(LocalDb& db, const std::vector<cluster::ErrantRange>& ranges) {
  auto logs = db.conn->Query("SHOW BINARY LOGS");
  std::vector<std::string> found;
  if (logs.ok()) {
    size_t n = logs->rows.size();
    for (size_t i = n > 3 ? n - 3 : 0; i < n; ++i) {
      auto name = logs->Get(i, "Log_name");
      if (!name) continue;
      auto events = db.conn->Query("SHOW BINLOG EVENTS IN " + mysql::SqlQuote(*name));
      if (!events.ok()) continue;
      for (size_t e = 0; e < events->rows.size(); ++e) {
        auto gtid = cluster::ParseBinlogEventGtid(events->Get(e, "Info").value_or(""));
        if (!gtid) continue;
        for (const cluster::ErrantRange& r : ranges) {
          if (gtid->domain_id == r.domain_id && gtid->server_id == r.server_id &&
              gtid->seqno > r.after_seqno && gtid->seqno <= r.last_seqno) {
            found.push_back(fmt::format("{}-{}-{}", gtid->domain_id, gtid->server_id, gtid->seqno));
          }
        }
      }
    }
  }
  if (found.empty()) return cluster::FormatErrant(ranges);
  std::string out;
  for (const std::string& g : found) out += (out.empty() ? "" : ",") + g;
  return out;
}

// What this node has that `source` lacks (gtids "" when nothing), and what
// the source has.
struct AgainstSource {
  std::string gtids;
  cluster::HasGtid has;
};

Result<AgainstSource> ErrantAgainst(Deps& deps, LocalDb& db, const SourceAddress& source) {
  auto mine = mysql::ReadGtidState(*db.conn, db.dialect);
  if (!mine.ok()) return mine.status();
  if (mine->executed.empty()) return AgainstSource{};  // nothing of its own yet
  auto conn = deps.connector->Connect(RemoteOptions(*deps.config, source.host, source.port));
  if (!conn.ok()) return conn.status().Annotate("checking for errant transactions");
  auto theirs = mysql::ReadGtidState(**conn, db.dialect);
  if (!theirs.ok()) return theirs.status();
  auto state = (*conn)->Query("SELECT @@GLOBAL.gtid_binlog_state AS s");
  if (!state.ok()) return state.status();
  std::string binlog_state = state->Get(0, "s").value_or("");
  auto ranges =
      cluster::FindErrant(mine->executed, theirs->executed, binlog_state, theirs->slave_pos);
  if (!ranges.ok()) return ranges.status();
  auto has = cluster::SourceHas(theirs->executed, binlog_state, theirs->slave_pos);
  if (!has.ok()) return has.status();
  if (ranges->empty()) return AgainstSource{"", *has};
  return AgainstSource{ListErrantGtids(db, *ranges), *has};
}

Status Reclone(Deps& deps, LocalDb& db, cluster::NodeState& state, const std::string& errant) {
  MANAGE_RETURN_IF_ERROR(state.RequestReclone(errant));
  deps.log.Warn("shutting mysqld down to re-provision this node from a snapshot",
                {{"datadir", deps.config->mysql.datadir}});
  (void)db.conn->Execute("SHUTDOWN");
  return Status::Ok();
}

const char* PolicyName(ErrantPolicy policy) {
  switch (policy) {
    case ErrantPolicy::kRefuse:
      return "refuse";
    case ErrantPolicy::kReclone:
      return "reclone";
    case ErrantPolicy::kFlashback:
      return "flashback";
  }
  return "refuse";
}

// ERRANT_POLICY for `errant` (GTIDs, never empty), found against `against`,
// whose history `has` tells. OK only once flashback reverted them: the caller
// goes on to set up replication. With reclone (or a flashback that cannot
// be done) mysqld is shut down, ContainerPilot stops the container, and the
// next pre_start moves the datadir aside and restores the newest snapshot.
Status ApplyErrantPolicy(Deps& deps, LocalDb& db, cluster::NodeState& state,
                         const std::string& errant, const std::string& against,
                         const cluster::HasGtid& has) {
  ErrantPolicy policy = deps.config->failover.errant_policy;
  deps.log.Error("errant transactions: refusing to replicate",
                 {{"errant_gtids", errant}, {"against", against}, {"policy", PolicyName(policy)}});
  Status refused = Status::FailedPrecondition(
      fmt::format("errant transactions {}: this node has transactions {} lacks; refusing to "
                  "replicate (ERRANT_POLICY={})",
                  errant, against, PolicyName(policy)));
  if (policy == ErrantPolicy::kFlashback) {
    if (deps.in_health_pass) {
      SpawnFailoverIfIdle(deps, state, "errant transactions: flashback runs in the failover hook");
      return refused;
    }
    Status reverted = Flashback(deps, db, state, has);
    if (reverted.ok()) return Status::Ok();
    deps.log.Warn("flashback impossible; re-provisioning from a snapshot instead",
                  {{"why", reverted.message()}});
    policy = ErrantPolicy::kReclone;
  }
  if (policy == ErrantPolicy::kReclone) MANAGE_RETURN_IF_ERROR(Reclone(deps, db, state, errant));
  return refused;
}

}  // namespace

Status CheckOwnErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                      const mysql::ReplicaStatus& status) {
  if (!status.configured || db.dialect.flavor != mysql::Flavor::kMariaDb) return Status::Ok();
  auto mine = mysql::ReadGtidState(*db.conn, db.dialect);
  if (!mine.ok()) return mine.status();
  auto ranges = cluster::LocalErrant(mine->executed, mine->slave_pos);
  if (!ranges.ok()) return ranges.status();
  if (ranges->empty()) return Status::Ok();
  // Whoever turned read_only off to write here: a replica takes no writes.
  MANAGE_RETURN_IF_ERROR(EnsureReadOnly(deps, db, true, "errant transactions on a replica"));
  auto replicated = mysql::MariaDbGtidPosition::Parse(mine->slave_pos);
  if (!replicated.ok()) return replicated.status();
  return ApplyErrantPolicy(deps, db, state, ListErrantGtids(db, *ranges),
                           "the primary (written on this replica)",
                           cluster::ReplicatedUpTo(*replicated));
}

Status RefuseErrant(Deps& deps, LocalDb& db, cluster::NodeState& state,
                    const SourceAddress& source) {
  auto errant = ErrantAgainst(deps, db, source);
  if (!errant.ok()) return errant.status();
  if (errant->gtids.empty()) return Status::Ok();
  return ApplyErrantPolicy(deps, db, state, errant->gtids, source.node, errant->has);
}

}  // namespace manage::hooks
