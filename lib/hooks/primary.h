// The primary's side of a health pass, and the one-time bootstrap of the first
// primary (users, database, time zones, first snapshot).
#pragma once

#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/deps.h"
#include "hooks/local_db.h"

namespace manage::hooks {

// REQUIRES: this node's session holds PRIMARY_KEY and was just renewed.
// Bootstraps once, then makes mysqld writable.
Status PrimaryPass(Deps& deps, LocalDb& db, cluster::NodeState& state);

// The lock is free and this node may lead: take it, then PrimaryPass.
Status TryBecomePrimary(Deps& deps, LocalDb& db, cluster::NodeState& state,
                        cluster::PrimaryLock& lock);

// Loads the time zone tables if they are empty, on a cluster this node
// bootstrapped; serialised on the node by a file lock. Takes seconds: never call
// it from a health pass. A datadir initialised by pre_start has them already
// (loaded without binlogs); this fills those of an older datadir, binlogged.
Status EnsureTimeZones(Deps& deps, LocalDb& db, cluster::NodeState& state);

// Turns MariaDB's semi-synchronous replication on for this (primary) node:
// wait point AFTER_SYNC, timeout SEMI_SYNC_TIMEOUT. No-op unless SEMI_SYNC=on.
Status EnableSemiSync(Deps& deps, LocalDb& db);

// The statements that create the application and replication users and the
// database; idempotent. They are binlogged and replicated, so they carry the
// passwords' hashes, never the passwords; never log them either.
Result<std::vector<std::string>> BootstrapSql(const Config& config);

}  // namespace manage::hooks
