// manage: the multi-call binary ContainerPilot runs as lifecycle hooks, and
// operators run by hand. Subcommands are a table of {name, summary, help, run};
// each one logs its own failure once and maps it to an exit code:
// 0 ok, 1 failed, 2 usage or configuration error.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/env.h"
#include "core/log.h"
#include "hooks/hooks.h"
#include "ops/counters.h"
#include "serve/serve.h"
#include "wiring.h"

namespace manage {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

using Args = std::vector<std::string>;

struct Subcommand {
  const char* name;
  const char* alias;  // the original manage.py's name, or nullptr
  const char* summary;
  const char* help;
  std::function<Status(hooks::Deps&, const Args&)> run;
};

const std::vector<Subcommand>& Subcommands();

int ExitCode(const Status& s) {
  if (s.ok()) return kExitOk;
  return s.code() == Code::kInvalidArgument ? kExitUsage : kExitFailed;
}

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: manage <command> [options]\n\n"
               "MariaDB that runs itself: ContainerPilot runs these as hooks,\n"
               "operators run them by hand. Configuration comes from the environment\n"
               "(see README.md, 'Configuration').\n\ncommands:\n");
  for (const Subcommand& c : Subcommands()) {
    std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  }
  std::fprintf(out, "  %-12s %s\n  %-12s %s\n", "version", "print the version", "help",
               "show this help, or 'manage help <command>'");
  std::fprintf(out, "\nexit codes: 0 ok, 1 failed, 2 usage or configuration error\n");
}

const Subcommand* Find(const std::string& name) {
  for (const Subcommand& c : Subcommands()) {
    if (name == c.name || (c.alias && name == c.alias)) return &c;
  }
  return nullptr;
}

int Help(const Args& args) {
  if (args.empty()) {
    PrintUsage(stdout);
    return kExitOk;
  }
  const Subcommand* c = Find(args[0]);
  if (!c) {
    std::fprintf(stderr, "manage: unknown command '%s'\n", args[0].c_str());
    return kExitUsage;
  }
  std::string help = c->help;
  if (help.rfind("usage:", 0) != 0) help = std::string("usage: manage ") + c->name + "\n\n" + help;
  std::printf("%s\n", help.c_str());
  return kExitOk;
}

// The hooks ContainerPilot runs: each run is counted (ops/counters.h) for
// `manage serve`'s metrics.
std::optional<ops::Hook> CountedHook(const std::string& name, const Args& args) {
  if (name == "health") {
    return hooks::HasFlag(args, "--primary") ? ops::Hook::kHealthPrimary : ops::Hook::kHealth;
  }
  if (name == "pre_start") return ops::Hook::kPreStart;
  if (name == "on_change") return ops::Hook::kOnChange;
  if (name == "snapshot") return ops::Hook::kSnapshot;
  if (name == "pre_stop") return ops::Hook::kPreStop;
  return std::nullopt;
}

bool WantsHelp(const Args& args) {
  return hooks::HasFlag(args, "--help") || hooks::HasFlag(args, "-h");
}

int RunSubcommand(const Subcommand& c, const Args& args) {
  Env env = ProcessEnv();
  auto config = LoadConfig(env, ReadHostFacts());
  Logger early = Logger::Stderr(LogLevel::kInfo, false).With("hook", c.name);
  if (!config.ok()) {
    early.Error("invalid configuration", {{"error", config.status().message()}});
    // ContainerPilot restarts serve as soon as it exits: not in a tight loop.
    if (std::string(c.name) == "serve") std::this_thread::sleep_for(std::chrono::seconds(5));
    return kExitUsage;
  }
  Logger log = Logger::Stderr(config->log_level, config->log_json).With("hook", c.name);
  for (const std::string& secret : config->Secrets()) log.AddSecret(secret);
  // A health pass must reach its fence within kFenceBound (config.h): each
  // of its (at most two) Consul requests before the fence gets
  // kHealthConsulTimeout, the name lookup included. So do serve's, whose
  // facts must be fresh within one interval.
  bool short_consul = std::string(c.name) == "health" || std::string(c.name) == "serve";
  auto wiring = Wiring::Create(*config, log,
                               short_consul ? kHealthConsulTimeout : std::chrono::milliseconds(0));
  if (!wiring.ok()) {
    log.Error("invalid configuration", {{"error", wiring.status().message()}});
    return kExitUsage;
  }
  auto started = std::chrono::steady_clock::now();
  Status s = c.run((*wiring)->deps(), args);
  if (auto hook = CountedHook(c.name, args); hook && (*wiring)->deps().counters) {
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    (*wiring)->deps().counters->RecordRun(*hook, s.ok(), took, std::chrono::system_clock::now());
  }
  // `health --primary` fails on every replica at every interval by design:
  // that is not worth an error line in ContainerPilot's log.
  bool expected = std::string(c.name) == "health" && hooks::HasFlag(args, "--primary");
  if (!s.ok())
    log.Log(expected ? LogLevel::kDebug : LogLevel::kError, "failed", {{"error", s.ToString()}});
  return ExitCode(s);
}

int Main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  // Multi-call: a link named after a subcommand runs it directly.
  std::string self = argv[0];
  self = self.substr(self.rfind('/') + 1);
  if (self != "manage" && Find(self)) args.insert(args.begin(), self);
  if (args.empty()) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "help" || cmd == "--help" || cmd == "-h") return Help(args);
  if (cmd == "version" || cmd == "--version") {
    std::printf("manage %s\n", MANAGE_VERSION);
    return kExitOk;
  }
  const Subcommand* c = Find(cmd);
  if (!c) {
    std::fprintf(stderr, "manage: unknown command '%s'\n\n", cmd.c_str());
    PrintUsage(stderr);
    return kExitUsage;
  }
  if (WantsHelp(args)) return Help({c->name});
  return RunSubcommand(*c, args);
}

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> kCommands = {
      {"pre_start", nullptr, "prepare my.cnf and the datadir before mysqld starts",
       "Runs before mysqld starts (ContainerPilot preStart). Renders my.cnf, takes\n"
       "ownership of the datadir, and for an empty datadir restores the newest\n"
       "snapshot, waits for one (up to SNAPSHOT_WAIT_TIMEOUT) when a primary exists\n"
       "but has not snapshotted yet, or initialises a new database. An existing\n"
       "datadir is never modified.",
       hooks::PreStart},
      {"health", nullptr, "check this node and converge it to its role",
       "usage: manage health [--primary]\n\n"
       "Runs every health interval for the mysqld job. Decides and enforces this\n"
       "node's role: the holder of PRIMARY_KEY renews its session, bootstraps users\n"
       "once and is writable; replicas replicate from it read-only. Exits 0 only\n"
       "when the node is healthy in its role (a replica: both threads running and\n"
       "lag <= MAX_REPLICA_LAG).\n\n"
       "  --primary  check only whether this node holds PRIMARY_KEY (the health of\n"
       "             the ${SERVICE_NAME}-primary job); changes nothing",
       hooks::Health},
      {"on_change", nullptr, "react to a change of the primary; fail over when it is gone",
       "Runs when the set of passing ${SERVICE_NAME}-primary instances changes. With a\n"
       "primary holding PRIMARY_KEY, a replica makes sure it replicates from it,\n"
       "repointing only when its source differs. When the primary went away, it\n"
       "waits for the lock to come free, then one node coordinates a failover under\n"
       "FAILOVER_LOCK_KEY: the most advanced passing replica by GTID (then\n"
       "FAILOVER_PRIORITY, then a semi-sync replica) is promoted and the others\n"
       "repoint to it. See README.md, 'Failover'.",
       hooks::OnChange},
      {"failover", nullptr, "fail over now if no primary holds the lock",
       "usage: manage failover [--force]\n\n"
       "Runs the failover of on_change by hand: when no node holds PRIMARY_KEY,\n"
       "coordinate (or wait for the coordinator), promote the best candidate and\n"
       "repoint this node. Does nothing when a primary holds the lock (see\n"
       "`manage switchover`). Each failover is recorded in FAILOVER_HISTORY_KEY.\n\n"
       "  --force  ignore FAILOVER_COOLDOWN (an automatic failover is held back\n"
       "           for that long after the last one while the last primary is\n"
       "           still registered)",
       hooks::Failover},
      {"switchover", nullptr, "hand the primary role to another node (run on the primary)",
       "usage: manage switchover [--to NODE]\n\n"
       "Run on the primary. Makes it read-only (killing client connections),\n"
       "waits until the target has applied every transaction, hands PRIMARY_KEY\n"
       "over, and repoints this node to the new primary. Writes are blocked only\n"
       "between those steps. Recorded in FAILOVER_HISTORY_KEY.\n\n"
       "  --to NODE  the new primary (node name or hostname); default: the passing\n"
       "             replica with the highest FAILOVER_PRIORITY, not NO_FAILOVER",
       hooks::Switchover},
      {"pre_stop", nullptr, "hand over the primary role before mysqld stops",
       "Runs when the mysqld job is stopping (ContainerPilot preStop job). On the\n"
       "primary, does a switchover to the best replica so that a clean stop costs\n"
       "the cluster no TTL; with nobody to hand over to, fences this node and ends\n"
       "its session. Elsewhere it does nothing.",
       hooks::PreStop},
      {"snapshot", "snapshot_task", "take a snapshot if one is due (primary only)",
       "usage: manage snapshot [--force]\n\n"
       "On the primary, takes a mariabackup snapshot into the configured store when\n"
       "none exists, the binlog rotated, or the last one is older than BACKUP_TTL.\n"
       "One snapshot runs at a time cluster-wide (BACKUP_LOCK_KEY, held by a\n"
       "session). Elsewhere it does nothing and exits 0.\n\n"
       "  --force  take one now even if none is due",
       hooks::Snapshot},
      {"status", nullptr, "show every node, its role, GTID and lag",
       "usage: manage status [--json]\n\n"
       "One line per node of ${SERVICE_NAME}: name, address, role, health, GTID\n"
       "position and replication lag, then the newest snapshot.\n\n"
       "  --json  print one JSON object instead, for scripts",
       hooks::ShowStatus},
      {"backup", nullptr, "list, verify, restore or delete snapshots in the store",
       "usage: manage backup list [--json]\n"
       "       manage backup verify ID\n"
       "       manage backup restore ID --datadir DIR\n"
       "       manage backup restore --to-time T | --to-gtid G --datadir DIR\n"
       "                             [--from SERVICE] [--work-dir W]\n"
       "       manage backup delete ID\n\n"
       "Works on the configured snapshot store (SNAPSHOT_BACKEND) from any node and\n"
       "changes nothing in the cluster.\n\n"
       "  list          every snapshot, newest first: id, time, stored and raw size,\n"
       "                compression, encryption, node, GTID; the one LAST_BACKUP_KEY\n"
       "                names is marked newest; then the binlog archive: what can be\n"
       "                restored (windows with their times and GTIDs) and any gap.\n"
       "                --json for scripts\n"
       "  verify ID     read the snapshot back whole: decrypt, decompress, check its\n"
       "                SHA-256 and size against its record and every xbstream chunk;\n"
       "                exits 0 only when it would restore\n"
       "  restore ID    unpack and prepare the snapshot into DIR, which must be empty\n"
       "                or absent (for inspection, or to seed a new cluster); prints\n"
       "                the GTID position it holds\n"
       "  restore --to-time T | --to-gtid G\n"
       "                restore a point in time into DIR: the newest snapshot before\n"
       "                it, then the archived binlog replayed up to it, excluded (the\n"
       "                first transaction at time T or later, or G itself). Every\n"
       "                archive segment needed is verified before DIR is written.\n"
       "                T: 2026-11-29T14:03:17Z (UTC; +HH:MM allowed) or @<unix s>.\n"
       "                --from SERVICE: another cluster's backups in the same store.\n"
       "                --work-dir W: where segments are staged (default DIR.pitr)\n"
       "  delete ID     delete the snapshot; the newest is refused\n\n"
       "Encrypted snapshots need SNAPSHOT_ENCRYPTION_KEY or SNAPSHOT_ENCRYPTION_KEY_FILE.\n"
       "On a terminal, long transfers show their progress on stderr.",
       hooks::Backup},
      {"serve", nullptr, "serve HTTP endpoints for load balancers, Prometheus and people",
       "Runs until stopped (a ContainerPilot job of its own). Listens on\n"
       "SERVE_ADDRESS:SERVE_PORT (default MYSQL_BIND_ADDRESS:8008) and answers\n"
       "from facts refreshed every half HEALTH_INTERVAL, never waiting on mysqld\n"
       "or Consul; changes nothing.\n\n"
       "  GET /primary          200 when this node holds PRIMARY_KEY and is writable\n"
       "  GET /replica[?lag=N]  200 when it replicates from the lock holder, both\n"
       "                        threads running, read-only, at most N s behind\n"
       "                        (default MAX_REPLICA_LAG)\n"
       "  GET /read-only[?lag=N] 200 for the primary or such a replica\n"
       "  GET /health           200 when mysqld answers\n"
       "  GET /node, /cluster   JSON: this node; every node (as status --json)\n"
       "  GET /metrics          Prometheus text format\n"
       "  GET /                 the status page\n\n"
       "Otherwise 503. HEAD and OPTIONS answer like GET without a body.",
       serve::Serve},
      {"archive", nullptr, "archive the primary's binlog to the store (ContainerPilot job)",
       "usage: manage archive\n"
       "       manage archive fill\n\n"
       "Runs on every node as the binlog-archive job. On the node holding\n"
       "PRIMARY_KEY it streams the binary log to the snapshot store (compressed and\n"
       "encrypted like snapshots) so that the archive trails the primary by at most\n"
       "BINLOG_ARCHIVE_RPO seconds; elsewhere it waits. It never affects health\n"
       "checks. SIGTERM ships what is complete, then exits.\n\n"
       "  fill  close gaps in the archive from any node whose binlog still has\n"
       "        the missing transactions (the archiver starts it by itself)",
       hooks::Archive},
  };
  return kCommands;
}

}  // namespace
}  // namespace manage

int main(int argc, char** argv) { return manage::Main(argc, argv); }
