// Config: every setting manage reads, typed and validated in one pass from the
// environment (names, defaults and parsing of the original manage.py, plus the
// settings several nodes on one host need). LoadConfig is pure: facts about the
// host come in through HostFacts so it can be table-tested.
#pragma once

#include <algorithm>
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
  int cpus = 1;            // CPUs this process may run on
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
  std::string archive_key;  // ${SERVICE_NAME}-binlog-archive: epoch and head of the binlog archive
};

struct SnapshotSettings {
  std::string backend = "manta";  // manta, s3 (alias minio), local
  std::string backup_name;        // ${SERVICE_NAME}-backup-%Y-%m-%dT%H-%M-%SZ
  std::chrono::seconds backup_ttl{86400};
  // How long pre_start waits for the first snapshot when a primary exists.
  std::chrono::seconds wait_timeout{600};
  // SNAPSHOT_COMPRESSION: zstd level (1-19), 0 for none; and worker threads
  // beside the one that hashes and uploads (default: the CPUs beyond two,
  // at most 4: mariabackup and that thread have the first two).
  int compression_level = 3;
  int compression_threads = 0;
  // SNAPSHOT_ENCRYPTION_KEY (the key itself, never logged) or
  // SNAPSHOT_ENCRYPTION_KEY_FILE; both empty: snapshots are not encrypted.
  std::string encryption_key;
  std::string encryption_key_file;
  // Retention: at most this many snapshots (0: no limit), none older than
  // this many days (0: no limit); the newest is always kept.
  int retain_count = 7;
  int retain_days = 0;
};

// The binlog archive (lib/archive): continuous archiving on the primary and
// point-in-time restores.
struct ArchiveSettings {
  bool enabled = true;  // BINLOG_ARCHIVE
  // BINLOG_ARCHIVE_RPO: the longest a committed transaction waits before the
  // archive holds it (while the primary and the store are up).
  std::chrono::seconds rpo{10};
  // BINLOG_ARCHIVE_SEAL_MB / _SEAL_INTERVAL: tail segments are merged into
  // one sealed segment at this size or age.
  int64_t seal_mb = 64;
  std::chrono::seconds seal_interval{3600};
  // RESTORE_FROM and RESTORE_TO: the first node of a new cluster restores
  // cluster RESTORE_FROM (its SERVICE_NAME, same store) to RESTORE_TO (a time
  // or a GTID) instead of initialising an empty database.
  std::string restore_from;
  std::string restore_to;
};

enum class ErrantPolicy {
  kRefuse,     // refuse to replicate, fail health, log the errant GTIDs
  kReclone,    // also move the datadir aside and re-provision from a snapshot
  kFlashback,  // revert them (row changes), then rejoin; reclone when it cannot
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

// The health checks' timing, ContainerPilot's settings (containerpilot.json5
// reads the same variables with the same defaults). manage reads them to
// refuse, at start, a timing that breaks the fencing argument, to bound the
// primary's lease (cluster/lease.h), and to register the services again as
// ContainerPilot does after Consul lost them (cluster/registration.h).
struct HealthTiming {
  std::chrono::milliseconds interval{2000};  // HEALTH_INTERVAL
  std::chrono::milliseconds ttl{7000};       // HEALTH_TTL (T)
  std::chrono::milliseconds timeout{5000};   // HEALTH_TIMEOUT: ContainerPilot kills a pass then
  // The ${SERVICE_NAME}-primary job's check: PRIMARY_HEALTH_INTERVAL and
  // PRIMARY_HEALTH_TTL, by default HEALTH_INTERVAL and HEALTH_TTL.
  std::chrono::milliseconds primary_interval{2000};
  std::chrono::milliseconds primary_ttl{7000};

  // I in the timing arguments: passes of either job (both fence a primary
  // that cannot prove it holds the lock) start at most this far apart, or
  // when the one before ended, if that is later.
  std::chrono::milliseconds Interval() const { return std::max(interval, primary_interval); }
};

// The fencing budget of a health pass (README, "Fencing: the timing
// argument"). Each Consul request of a pass gets kHealthConsulTimeout, the
// name lookup included; a pass on a primary that has not proven it holds
// PRIMARY_KEY (or that its lease covers it) kProofDeadline after it started
// is fenced by its watchdog; a fence (kill clients, set read_only) takes at
// most kFenceBudget. H, the longest from a pass's start to its fence, is their
// sum with the start-up.
inline constexpr std::chrono::milliseconds kHealthConsulTimeout{1000};
inline constexpr std::chrono::milliseconds kProofDeadline{2400};
inline constexpr std::chrono::milliseconds kFenceBudget{500};
inline constexpr std::chrono::milliseconds kPassStartUp{100};
inline constexpr std::chrono::milliseconds kFenceBound =
    kPassStartUp + kProofDeadline + kFenceBudget;
// P, the longest a pass of the primary runs when it does not fence: its
// decision (and so the watchdog's disarming) comes within kProofDeadline, and
// the one request it may send after it, its own heartbeat of the check (the
// lease's proof, hooks/consul_faults.h), goes only while it still ends within
// that deadline. So that extra request never delays the next pass.
inline constexpr std::chrono::milliseconds kPassBound = kPassStartUp + kProofDeadline;

// `manage serve`, the HTTP endpoints for load balancers and monitoring.
struct ServeSettings {
  std::string address = "0.0.0.0";  // SERVE_ADDRESS, by default MYSQL_BIND_ADDRESS
  int port = 8008;                  // SERVE_PORT
  // The facts the endpoints answer from are refreshed twice per
  // HEALTH_INTERVAL (Config::health) and never trusted when older than one.
};

// The services containerpilot.json5 has ContainerPilot register, for the
// parts that are not timing (registered again after Consul lost them).
struct ContainerPilotServices {
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
  HealthTiming health;
  LogLevel log_level = LogLevel::kInfo;
  bool log_json = false;
  MySqlSettings mysql;
  KeySettings keys;
  SnapshotSettings snapshot;
  FailoverSettings failover;
  ServeSettings serve;
  ArchiveSettings archive;
  ContainerPilotServices containerpilot;
  // CONSUL_AGENT: a Consul agent runs in this container and shares its fate,
  // so the primary's session also depends on that agent's serfHealth (and the
  // primary has no lease; see cluster/lease.h).
  bool consul_agent = false;
  Env env;  // the environment it was read from (Consul and store settings read it)

  // How long a primary stays writable for new connections after a health
  // pass proved it holds the lock (hooks/local_db.h, MakeWritable): until the
  // earliest moment another node could be promoted, T + D - I after the pass,
  // less the time the pass may have taken to prove it. LoadConfig's timing
  // check makes it longer than max(I, P) + 0.6 s, so the next pass renews it
  // first. A pass kept writable by the primary's lease gives no more than
  // that lease proves (hooks/consul_faults.h, KeptByLease).
  std::chrono::milliseconds WriteLease() const {
    return health.ttl + lock_delay - health.Interval() - kProofDeadline;
  }

  // Every secret of the configuration (passwords, the Consul ACL token), for
  // the logger to mask; empty ones left out.
  std::vector<std::string> Secrets() const;

  // The name this node goes by in Consul and KV values: the ContainerPilot
  // service ID "<service>-<hostname>".
  std::string NodeName() const { return service_name + "-" + hostname; }
};

// Reads and validates the whole configuration. InvalidArgument names the first
// bad variable; nothing else is checked or changed.
Result<Config> LoadConfig(const Env& env, const HostFacts& host);

// SNAPSHOT_BACKEND, else BACKUP_DRIVER, else "manta", lower-cased; "minio" is
// kept as given (its store defaults differ from "s3": storage/settings.h).
std::string SnapshotBackendAsGiven(const EnvReader& r);

// "CONTAINERPILOT_MYSQL_PRIMARY_IP" for job "mysql-primary".
std::string ContainerPilotIpVariable(const std::string& job_name);

}  // namespace manage
