// manage: the multi-call binary ContainerPilot runs as lifecycle hooks, and
// operators run by hand. Subcommands are a table of {name, summary, help, run};
// each one logs its own failure once and maps it to an exit code:
// 0 ok, 1 failed, 2 usage or configuration error.
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/env.h"
#include "core/log.h"
#include "hooks/consul_faults.h"
#include "hooks/hooks.h"
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
               "MySQL/MariaDB that runs itself: ContainerPilot runs these as hooks,\n"
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

bool WantsHelp(const Args& args) {
  return hooks::HasFlag(args, "--help") || hooks::HasFlag(args, "-h");
}

int RunSubcommand(const Subcommand& c, const Args& args) {
  Env env = ProcessEnv();
  auto config = LoadConfig(env, ReadHostFacts());
  Logger early = Logger::Stderr(LogLevel::kInfo, false).With("hook", c.name);
  if (!config.ok()) {
    early.Error("invalid configuration", {{"error", config.status().message()}});
    return kExitUsage;
  }
  Logger log = Logger::Stderr(config->log_level, config->log_json).With("hook", c.name);
  for (const std::string& secret :
       {config->mysql.password, config->mysql.repl_password, config->mysql.root_password}) {
    log.AddSecret(secret);
  }
  // A health pass must finish, fencing included, well inside one interval:
  // each of its (at most two) Consul requests before the fence gets 1 s.
  bool is_health = std::string(c.name) == "health";
  auto wiring = Wiring::Create(
      *config, log, is_health ? hooks::kHealthConsulTimeout : std::chrono::milliseconds(0));
  if (!wiring.ok()) {
    log.Error("invalid configuration", {{"error", wiring.status().message()}});
    return kExitUsage;
  }
  Status s = c.run((*wiring)->deps(), args);
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
  };
  return kCommands;
}

}  // namespace
}  // namespace manage

int main(int argc, char** argv) { return manage::Main(argc, argv); }
