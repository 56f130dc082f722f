// archive: the binlog archiver, ContainerPilot's job "binlog-archive" (every
// node; restarted whenever it exits). It waits while this node does not hold
// PRIMARY_KEY, and on the primary runs archiving terms (archive/archiver.h)
// one after the other: a term ends when the node is demoted, the server,
// store or Consul fails (the next starts after a pause that doubles up to a
// minute) or SIGTERM arrives (what is complete is shipped first). It runs
// beside the health checks and never touches what they decide: it can lag,
// fail or die without the node's health changing.
//
// `archive fill` closes gaps in the archive from any node whose binlog still
// has the missing transactions (archive/fill.h). The archiver starts it,
// detached, when a term begins after a gap and every 10 minutes while one
// remains; operators may run it too. One runs at a time per node (a flock);
// two nodes filling the same gap write the same transactions, and the chain
// uses one of them.
#include <fmt/format.h>

#include "archive/archiver.h"
#include "archive/chain.h"
#include "archive/fill.h"
#include "archive/segment_io.h"
#include "cluster/mycnf.h"
#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/backup_access.h"
#include "hooks/file_lock.h"
#include "hooks/hooks.h"
#include "hooks/local_db.h"
#include "sys/self_usage.h"

namespace manage::hooks {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kIdlePoll{2};
constexpr seconds kMaxBackoff{60};
// Dump server ids: unique per node and apart from every node's own (derived
// from its IPv4 address, whose top bit this flips: no node of one network has it).
constexpr uint32_t kArchiveIdBit = 0x80000000u;

bool Stopped(const std::atomic<bool>* stop) { return stop != nullptr && stop->load(); }

void Pause(Deps& deps, const std::atomic<bool>* stop, milliseconds d) {
  for (milliseconds slept{0}; slept < d && !Stopped(stop); slept += milliseconds(200)) {
    deps.clock->SleepFor(milliseconds(200));
  }
}

uint32_t ArchiveServerId(const cluster::NodeState& state, const Config& c) {
  uint32_t id = state.ServerId().value_or(0);
  if (id == 0) id = cluster::ServerIdFromAddress(c.address);  // as pre_start derives it
  return id ^ kArchiveIdBit;
}

// Our session when it holds PRIMARY_KEY, else "".
Result<std::string> PrimarySession(Deps& deps, cluster::NodeState& state) {
  cluster::PrimaryLock lock(deps.config, deps.consul, &state);
  auto view = lock.Read();
  if (!view.ok()) return view.status();
  const std::string mine = state.Session();
  return view->HeldBy(mine) ? mine : "";
}

Result<std::string> LocalOldestState(Deps& deps) {
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  return mysql::OldestBinlogState(*db->conn);
}

Result<uint32_t> LocalDomain(Deps& deps) {
  auto db = ConnectLocal(deps);
  if (!db.ok()) return db.status();
  auto r = db->conn->Query("SELECT @@GLOBAL.gtid_domain_id AS d");
  if (!r.ok()) return r.status();
  return static_cast<uint32_t>(std::stoul(r->Get(0, "d").value_or("0")));
}

archive::ArchiverSettings Settings(Deps& deps, const cluster::NodeState& state,
                                   const backup::BackupKey* key) {
  const Config& c = *deps.config;
  archive::ArchiverSettings s;
  s.node = c.NodeName();
  s.primary_key = c.keys.primary_key;
  s.archive_key = c.keys.archive_key;
  s.rpo = c.archive.rpo;
  s.seal_bytes = static_cast<uint64_t>(c.archive.seal_mb) << 20;
  s.seal_age = c.archive.seal_interval;
  s.encoding = SnapshotEncoding(c, key);
  s.key = key;
  s.dump.connect.socket = c.mysql.socket;
  s.dump.connect.user = "root";
  s.dump.dump_server_id = ArchiveServerId(state, c);
  s.probe_server_id = s.dump.dump_server_id ^ 1u;
  return s;
}

// One term on the primary; logs what it did.
Status Term(Deps& deps, cluster::NodeState& state, storage::ObjectStore& store,
            const std::string& session, const std::atomic<bool>* stop) {
  const Config& c = *deps.config;
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  const backup::BackupKey* k = key->has_value() ? &**key : nullptr;
  archive::ArchiverEnv env;
  env.consul = deps.consul;
  env.store = &store;
  env.dumper = deps.dumper;
  env.clock = deps.clock;
  env.log = deps.log;
  const std::string spool = c.state_dir + "/archive/spool";
  env.new_spool = [spool] { return archive::OpenFileSpool(spool); };
  env.oldest_state = [&deps] { return LocalOldestState(deps); };
  env.domain_id = [&deps] { return LocalDomain(deps); };
  env.on_gap = [&deps](const archive::MariaDbGtid&, const archive::MariaDbGtid&) {
    if (!deps.spawn_detached) return;
    Status s = deps.spawn_detached({"archive", "fill"});
    if (!s.ok()) deps.log.Warn("could not start a gap fill", {{"error", s.message()}});
  };
  env.stop = stop;
  archive::Archiver archiver(Settings(deps, state, k), env);
  Status st = archiver.RunTerm(session);
  const archive::TermStats& t = archiver.stats();
  const sys::SelfUsage usage = sys::ReadSelfUsage();
  deps.log.Log(st.ok() || st.code() == Code::kAborted ? LogLevel::kInfo : LogLevel::kWarn,
               "binlog archive term ended",
               {{"epoch", std::to_string(t.epoch)},
                {"tails", std::to_string(t.tails)},
                {"seals", std::to_string(t.seals)},
                {"transactions", std::to_string(t.transactions)},
                {"bytes", std::to_string(t.bytes)},
                {"max_lag_ms", std::to_string(t.max_lag.count())},
                {"cpu_ms", std::to_string(usage.cpu.count())},
                {"max_rss_kb", std::to_string(usage.max_rss_kb)},
                {"why", st.ok() ? "stopped" : st.message()}});
  return st;
}

Status RunArchiver(Deps& deps) {
  const Config& c = *deps.config;
  const std::atomic<bool>* stop = deps.catch_termination ? deps.catch_termination() : nullptr;
  if (!c.archive.enabled) {
    // containerpilot.json5 leaves the job out then; should it run anyway (a
    // spelling the template does not know), it waits rather than exit, which
    // ContainerPilot would answer by starting it again at once.
    deps.log.Info("binlog archiving is off (BINLOG_ARCHIVE); waiting for SIGTERM");
    while (stop != nullptr && !Stopped(stop)) Pause(deps, stop, kMaxBackoff);
    return Status::Ok();
  }
  cluster::NodeState state(deps.fs, c.state_dir);
  std::unique_ptr<storage::ObjectStore> store;
  milliseconds backoff = kIdlePoll;
  bool primary = false;
  while (!Stopped(stop)) {
    auto session = PrimarySession(deps, state);
    if (!session.ok() || session->empty()) {
      if (primary) deps.log.Info("not the primary any more: archiving paused");
      primary = false;
      Pause(deps, stop, kIdlePoll);
      continue;
    }
    primary = true;
    if (!store) {
      auto opened = deps.open_archive(c.service_name);
      if (!opened.ok()) {
        deps.log.Warn("cannot open the binlog archive",
                      {{"backend", c.snapshot.backend}, {"error", opened.status().message()}});
        Pause(deps, stop, backoff);
        backoff = std::min<milliseconds>(backoff * 2, kMaxBackoff);
        continue;
      }
      store = std::move(*opened);
    }
    const auto started = deps.clock->Monotonic();
    Status st = Term(deps, state, *store, *session, stop);
    if (st.ok() || Stopped(stop)) break;
    if (deps.clock->Monotonic() - started > kMaxBackoff) backoff = kIdlePoll;
    Pause(deps, stop, st.code() == Code::kAborted ? milliseconds(kIdlePoll) : backoff);
    if (st.code() != Code::kAborted) backoff = std::min<milliseconds>(backoff * 2, kMaxBackoff);
  }
  return Status::Ok();
}

archive::FillSource SourceFor(Deps& deps, const consul::ServiceInstance& node, uint32_t dump_id) {
  archive::FillSource s;
  s.name = node.id;
  s.dump.connect = RemoteOptions(*deps.config, node.address, node.port);
  s.dump.dump_server_id = dump_id;
  s.probe_server_id = dump_id ^ 1u;
  mysql::ConnectOptions connect = s.dump.connect;
  s.oldest_state = [&deps, connect]() -> Result<std::string> {
    auto conn = deps.connector->Connect(connect);
    if (!conn.ok()) return conn.status();
    return mysql::OldestBinlogState(**conn);
  };
  return s;
}

Status FillGaps(Deps& deps) {
  const Config& c = *deps.config;
  cluster::NodeState state(deps.fs, c.state_dir);
  FileLock lock(state.Path("archive-fill.lock"), FileLock::kTry);
  if (lock.busy()) {
    deps.out("a gap fill is already running on this node\n");
    return Status::Ok();
  }
  if (!lock.ok())
    return Status::FailedPrecondition("cannot lock " + state.Path("archive-fill.lock"));
  auto store = deps.open_archive(c.service_name);
  if (!store.ok()) return store.status().Annotate("binlog archive");
  auto key = LoadBackupKey(deps);
  if (!key.ok()) return key.status();
  auto nodes = deps.consul->Health(c.service_name, false);
  if (!nodes.ok()) return nodes.status().Annotate("listing the nodes of " + c.service_name);
  archive::FillEnv env;
  env.store = store->get();
  env.dumper = deps.dumper;
  env.log = deps.log;
  const std::string spool = c.state_dir + "/archive/fill-spool";
  env.new_spool = [spool] { return archive::OpenFileSpool(spool); };
  env.key = key->has_value() ? &**key : nullptr;
  env.encoding = SnapshotEncoding(c, env.key);
  env.segment_bytes = static_cast<uint64_t>(c.archive.seal_mb) << 20;
  const uint32_t dump_id = ArchiveServerId(state, c) ^ 2u;
  while (true) {
    auto segments = archive::ListSegments(**store);
    if (!segments.ok()) return segments.status();
    const archive::Chain chain = archive::BuildChain(std::move(*segments));
    if (chain.gaps.empty()) {
      deps.out("the binlog archive has no gap\n");
      return Status::Ok();
    }
    const archive::ArchiveGap& gap = chain.gaps.front();
    const std::string what = archive::GtidText(gap.after) + " .. " + archive::GtidText(gap.before);
    bool filled = false;
    for (const consul::ServiceInstance& node : *nodes) {
      auto done = archive::FillGap(chain, 0, SourceFor(deps, node, dump_id), env);
      if (done.ok()) {
        deps.log.Info(
            "binlog archive gap closed",
            {{"gap", what}, {"from_node", node.id}, {"transactions", std::to_string(*done)}});
        filled = true;
        break;
      }
      deps.log.Info("this node cannot fill the gap",
                    {{"gap", what}, {"node", node.id}, {"why", done.status().message()}});
    }
    if (!filled) {
      return Status::Unavailable(fmt::format(
          "binlog archive gap {} (times {} .. {}): no node still has these transactions", what,
          gap.time_after, gap.time_before));
    }
  }
}

}  // namespace

Status Archive(Deps& deps, const Args& args) {
  if (args.size() == 1 && args[0] == "fill") return FillGaps(deps);
  MANAGE_RETURN_IF_ERROR(CheckArgs(args, {}));
  return RunArchiver(deps);
}

}  // namespace manage::hooks
