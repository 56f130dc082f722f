// Helpers for failover and errant-transaction tests of the hooks: a replica
// whose primary is gone (OrphanFixture), and replies of the fake MariaDB.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cluster/failover.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::hooks {

using Strings = std::vector<std::string>;

inline constexpr char kThird[] = "mysql-n3";

inline mysql::QueryResult Events(const Strings& gtids) {
  std::vector<mysql::Row> rows;
  for (const std::string& g : gtids) rows.push_back({"Gtid", "BEGIN GTID " + g});
  return mysql::MakeResult({"Event_type", "Info"}, rows);
}

inline mysql::QueryResult GtidRow(const std::string& current, const std::string& slave) {
  return mysql::MakeResult({"executed", "binlog_pos", "slave_pos"}, {{current, current, slave}});
}

// A replica of kThird, which held the lock and is gone: its session expired,
// the lock-delay passed, and nobody coordinates.
struct OrphanFixture : HookFixture {
  explicit OrphanFixture(const Env& env = {}) : HookFixture(env) {
    RegisterSelf();
    RegisterOther();
    GiveLockTo(kThird, "node3");
    clock.Advance(std::chrono::seconds(120));
    REQUIRE_FALSE(LockHeld());
    REQUIRE(state().SetRole(cluster::Role::kReplica).ok());
    ScriptReplica(ReplicaOf("10.0.0.13"));
    ScriptReadOnly(true);
    db().ReplyPrefix("SELECT MASTER_GTID_WAIT", mysql::OneValue("w", "0"));
  }
  // kOther coordinates a failover and designates this node: it must have
  // `gtid`, and first catch up from `source` when one is named.
  void DesignateMe(const std::string& gtid, const std::string& source = "") {
    auto coordinator = consul.AgentOn("node2");
    consul::SessionSpec spec{"mysql-failover", std::chrono::seconds(10), "delete",
                             std::chrono::seconds(0), std::nullopt};
    auto id = coordinator->CreateSession(spec);
    REQUIRE(id.ok());
    cluster::Designation d{kOther, "failover", kThird, kNode, gtid, source};
    REQUIRE(*coordinator->Acquire(config.failover.lock_key, *id, cluster::SerializeDesignation(d)));
  }
  std::vector<cluster::FailoverEvent> History() {
    auto kv = consul.Peek(config.failover.history_key);
    if (!kv) return {};
    auto h = cluster::ParseHistory(kv->value);
    REQUIRE(h.ok());
    return *h;
  }
};

}  // namespace manage::hooks
