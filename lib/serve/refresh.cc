#include "serve/refresh.h"

#include "cluster/node_state.h"
#include "cluster/primary_lock.h"
#include "hooks/status.h"

namespace manage::serve {

void LocalReader::ReadMysqld(LocalFacts& f) {
  if (!conn_) {
    mysql::ConnectOptions opts;
    opts.socket = deps_.config->mysql.socket;
    opts.user = "root";
    opts.connect_timeout = std::chrono::seconds(1);
    opts.read_timeout = std::chrono::seconds(2);
    opts.write_timeout = std::chrono::seconds(2);
    auto conn = deps_.connector->Connect(opts);
    if (!conn.ok()) {
      f.mysqld_error = conn.status().message();
      return;
    }
    auto dialect = mysql::DetectDialect((*conn)->ServerVersion());
    if (!dialect.ok()) {
      f.mysqld_error = dialect.status().message();
      return;
    }
    conn_ = std::move(*conn);
    dialect_ = *dialect;
  }
  auto read_only = mysql::ReadReadOnly(*conn_);
  auto replica = read_only.ok() ? mysql::ReadReplicaStatus(*conn_, dialect_)
                                : Result<mysql::ReplicaStatus>(read_only.status());
  auto gtid = replica.ok() ? mysql::ReadGtidState(*conn_, dialect_)
                           : Result<mysql::GtidState>(replica.status());
  if (!gtid.ok()) {
    f.mysqld_error = gtid.status().message();
    conn_.reset();  // the next refresh connects anew
    return;
  }
  f.mysqld_up = true;
  f.read_only = *read_only;
  f.replica = *replica;
  f.gtid = gtid->executed;
}

void LocalReader::ReadConsul(LocalFacts& f) {
  cluster::NodeState state(deps_.fs, deps_.config->state_dir);
  cluster::PrimaryLock lock(deps_.config, deps_.consul, &state);
  auto view = lock.Read();
  auto instances = view.ok() ? deps_.consul->Health(deps_.config->service_name, false)
                             : Result<std::vector<consul::ServiceInstance>>(view.status());
  if (!instances.ok()) {
    f.consul_error = instances.status().message();
    return;
  }
  f.consul_up = true;
  f.lock_held = view->held;
  f.lock_holder = view->held ? view->value : "";
  std::string mine = state.Session();
  f.lock_mine = view->HeldBy(mine);
  const std::string me = deps_.config->NodeName();
  for (const consul::ServiceInstance& i : *instances) {
    if (i.id == me) f.passing = i.passing;
    if (f.lock_held && i.id == f.lock_holder) {
      f.holder_host = i.address;
      f.holder_port = i.port;
    }
  }
}

LocalFacts LocalReader::Read() {
  LocalFacts f;
  f.taken = deps_.clock->Monotonic();
  ReadMysqld(f);
  ReadConsul(f);
  return f;
}

ClusterFacts ReadCluster(hooks::Deps& deps) {
  ClusterFacts facts;
  facts.taken = deps.clock->Monotonic();
  facts.taken_wall = deps.clock->Now();
  auto report = hooks::CollectStatus(deps);
  if (report.ok()) {
    facts.report = std::move(*report);
  } else {
    facts.error = report.status().message();
  }
  return facts;
}

Ticker::Ticker(std::chrono::milliseconds period, std::function<void()> run)
    : period_(period), run_(std::move(run)), thread_([this] { Loop(); }) {}

Ticker::~Ticker() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Ticker::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto next = std::chrono::steady_clock::now() + period_;
    lock.unlock();
    run_();
    lock.lock();
    wake_.wait_until(lock, next, [this] { return stop_; });
  }
}

}  // namespace manage::serve
