// Config: every setting manage reads, typed and validated in one pass from the
// environment (names, defaults and parsing of the original manage.py, plus the
// settings several nodes on one host need). LoadConfig is pure: facts about the
// host come in through HostFacts so it can be table-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/log.h"
#include "core/status.h"

namespace manage {

struct HostFacts {
  std::string hostname;
  std::string first_ipv4;  // first non-loopback IPv4, empty when none
  int64_t memory_mb = 0;   // RAM available to this container
};

struct MySqlSettings {
  std::string user, password, database;
  std::string repl_user, repl_password;
  std::string root_password;
  bool random_root_password = true;
  bool onetime_password = false;
  std::string datadir = "/var/lib/mysql";
  int64_t buffer_pool_mb = 0;
  std::string socket = "/run/mysqld/mysqld.sock";
  int port = 3306;
  std::string bind_address = "0.0.0.0";
  std::string cnf_path = "/etc/mysql/my.cnf";
  std::string cnf_template = "/etc/manage/my.cnf.tmpl";
  std::string os_user = "mysql";  // owner of the datadir when running as root
  std::string tmpdir = "/tmp";    // mysqld's tmpdir; per node when nodes share a host
};

// Defaults derive from SERVICE_NAME; with the default SERVICE_NAME=mysql they are
// exactly the original's keys, and clusters with other names never share a key.
struct KeySettings {
  std::string primary_key;      // ${SERVICE_NAME}-primary
  std::string last_backup_key;  // ${SERVICE_NAME}-last-backup
  std::string last_binlog_key;  // ${SERVICE_NAME}-last-binlog
  std::string backup_lock_key;  // ${SERVICE_NAME}-backup-running
  std::string session_name;     // ${SERVICE_NAME}-primary-lock
};

struct SnapshotSettings {
  std::string backend = "manta";  // manta, s3 (alias minio), local
  std::string backup_name;        // ${SERVICE_NAME}-backup-%Y-%m-%dT%H-%M-%SZ
  std::chrono::seconds backup_ttl{86400};
  std::string storage_dir = "/tmp/snapshots";
  // How long pre_start waits for the first snapshot when a primary exists.
  std::chrono::seconds wait_timeout{600};
};

enum class ErrantPolicy {
  kRefuse,   // refuse to replicate, fail health, log the errant GTIDs
  kReclone,  // also move the datadir aside and re-provision from a snapshot
};

// Failover, switchover and semi-synchronous replication. FAILOVER_PRIORITY and
// NO_FAILOVER describe this node; the others learn them from its service tags.
struct FailoverSettings {
  std::string lock_key;     // ${PRIMARY_KEY}/failover: held by the coordinator
  std::string history_key;  // ${SERVICE_NAME}-failover-history: JSON list of events
  int priority = 0;         // higher wins among equally advanced candidates
  bool no_failover = false;
  // How long the coordinator waits for candidates to apply the relay log they
  // already received; a candidate that has not by then cannot be chosen.
  std::chrono::seconds max_lag{30};
  // After an automatic failover, none again for this long while the last
  // primary is still registered (it may come back); see cluster/failover.h.
  std::chrono::seconds cooldown{300};
  ErrantPolicy errant_policy = ErrantPolicy::kRefuse;
  bool semi_sync = false;
  // How long a commit waits for a replica's acknowledgement before MariaDB
  // falls back to asynchronous replication (rpl_semi_sync_master_timeout).
  std::chrono::seconds semi_sync_timeout{86400};
};

// What containerpilot.json5 makes of the environment, for the parts manage
// needs: the health checks' timing (the fencing and lease arguments) and the
// services ContainerPilot registers (registered again after Consul lost them).
struct ContainerPilotSettings {
  std::chrono::seconds health_interval{2};  // HEALTH_INTERVAL
  // PRIMARY_HEALTH_INTERVAL, default HEALTH_INTERVAL
  std::chrono::seconds primary_health_interval{2};
  std::chrono::seconds health_ttl{7};          // HEALTH_TTL
  std::chrono::seconds primary_health_ttl{7};  // PRIMARY_HEALTH_TTL, default HEALTH_TTL
  // The addresses ContainerPilot advertises (CONTAINERPILOT_<JOB>_IP, which it
  // sets for every hook), else this node's address.
  std::string service_address;
  std::string primary_address;
  // The ${SERVICE_NAME} job's tags as the template renders them, from the raw
  // FAILOVER_PRIORITY and NO_FAILOVER.
  std::vector<std::string> service_tags;
};

struct Config {
  std::string service_name = "mysql";
  std::string primary_service;  // ${SERVICE_NAME}-primary: the advertised primary job
  std::string hostname;
  std::string address;  // advertised IPv4 of this node
  std::string state_dir = "/var/lib/manage";
  // Primary session TTL (Consul invalidates it 1-2x this after the last renewal).
  std::chrono::seconds session_ttl{10};
  // Consul lock-delay of the primary session: after the session dies, nobody can
  // take PRIMARY_KEY for this long. See the README's fencing timing argument.
  std::chrono::seconds lock_delay{1};
  std::chrono::seconds max_replica_lag{30};
  LogLevel log_level = LogLevel::kInfo;
  bool log_json = false;
  MySqlSettings mysql;
  KeySettings keys;
  SnapshotSettings snapshot;
  FailoverSettings failover;
  ContainerPilotSettings containerpilot;
  // CONSUL_AGENT: a Consul agent runs in this container and shares its fate,
  // so the primary's session also depends on that agent's serfHealth (and the
  // primary has no lease; see cluster/lease.h).
  bool consul_agent = false;
  Env env;  // the environment it was read from (Consul and store settings read it)

  // The name this node goes by in Consul and KV values: the ContainerPilot
  // service ID "<service>-<hostname>".
  std::string NodeName() const { return service_name + "-" + hostname; }
};

// Reads and validates the whole configuration. InvalidArgument names the first
// bad variable; nothing else is checked or changed.
Result<Config> LoadConfig(const Env& env, const HostFacts& host);

// "CONTAINERPILOT_MYSQL_PRIMARY_IP" for job "mysql-primary".
std::string ContainerPilotIpVariable(const std::string& job_name);

}  // namespace manage
