#include "wiring.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "consul/address.h"
#include "consul/consul.h"
#include "http/socket_transport.h"
#include "mysql/binlog_stream.h"
#include "mysql/client.h"
#include "storage/open_store.h"
#include "storage/settings.h"
#include "sys/clock.h"
#include "sys/fs.h"
#include "sys/process.h"

namespace manage {
namespace {

std::string FirstIpv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string out;
  for (ifaddrs* i = list; i && out.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) out = buf;
  }
  freeifaddrs(list);
  return out;
}

// MemTotal, capped by a cgroup v2 limit when the container has one.
int64_t MemoryMb() {
  int64_t mb = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  while (meminfo >> key >> kb) {
    if (key == "MemTotal:") {
      mb = kb / 1024;
      break;
    }
    meminfo.ignore(256, '\n');
  }
  std::ifstream limit("/sys/fs/cgroup/memory.max");
  std::string value;
  if (limit >> value && value != "max") {
    int64_t bytes = std::stoll(value);
    if (bytes > 0 && bytes / (1024 * 1024) < mb) mb = bytes / (1024 * 1024);
  }
  return mb;
}

// Runs this binary's subcommand in a new session, reaped by init: the caller
// returns at once and the child outlives it. The child must not keep the hook's
// stdout/stderr open: ContainerPilot waits for those pipes to close, so an
// inherited pipe would hold the health check open until the child finished.
// Its output goes to `log_path` instead.
Status SpawnDetached(const std::string& log_path, const std::vector<std::string>& args) {
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return Status::Unavailable("cannot open " + log_path);
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Status::Unavailable("fork failed");
  }
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
        dup2(log_fd, STDERR_FILENO) < 0) {
      _exit(126);
    }
    std::vector<std::string> argv = {"manage"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv("/proc/self/exe", cargv.data());
    _exit(127);
  }
  close(log_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  return Status::Ok();
}

// Raised by SIGTERM/SIGINT once CatchTermination installed the handlers. The
// one piece of process-wide state: a signal handler can reach nothing else.
std::atomic<bool> g_terminate{false};

void OnTerminate(int) { g_terminate.store(true); }

const std::atomic<bool>* CatchTermination() {
  struct sigaction sa {};
  sa.sa_handler = OnTerminate;
  sa.sa_flags = SA_RESTART;  // a blocked read resumes; the loop sees the flag within a heartbeat
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return &g_terminate;
}

}  // namespace

HostFacts ReadHostFacts() {
  HostFacts facts;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) facts.hostname = host;
  facts.first_ipv4 = FirstIpv4();
  facts.memory_mb = MemoryMb();
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  facts.cpus = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  return facts;
}

struct Wiring::Impl {
  std::unique_ptr<http::SocketTransport> transport;
  std::unique_ptr<consul::HttpConsul> consul;
  mysql::MariaDbConnector connector;
  sys::RealProcessRunner runner;
  sys::RealFileSystem fs;
  sys::RealClock clock;
  std::atomic<bool> store_cancel{false};
  std::unique_ptr<storage::ObjectStore> store;
  std::unique_ptr<ops::Counters> counters;
  mysql::MariaDbBinlogDumper dumper;
  hooks::Deps deps;

  storage::StoreContext Context() {
    storage::StoreContext context;
    context.clock = &clock;
    context.cancel = &store_cancel;
    Logger log = deps.log;
    ops::Counters* recorded = counters.get();
    context.on_retry = [log, recorded](const Status& failure, int attempt,
                                       std::chrono::milliseconds wait) {
      if (recorded != nullptr) recorded->AddStoreError();
      log.Warn("object store request failed; retrying", {{"attempt", std::to_string(attempt)},
                                                         {"wait_ms", std::to_string(wait.count())},
                                                         {"error", failure.message()}});
    };
    return context;
  }

  // The store, opened on first use: hooks that need none never read its
  // settings or load libcurl.
  Result<storage::ObjectStore*> OpenStore(const Config& config) {
    if (store) return store.get();
    auto settings = storage::ReadStoreSettings(config.env);
    if (!settings.ok()) return settings.status();
    auto opened = storage::OpenStore(*settings, Context());
    if (!opened.ok()) return opened.status();
    store = std::move(*opened);
    return store.get();
  }

  // The binlog archive of `service`: <SNAPSHOT_PREFIX>/binlogs/<service>.
  Result<std::unique_ptr<storage::ObjectStore>> OpenArchive(const Config& config,
                                                            const std::string& service) {
    auto settings = storage::ReadStoreSettings(config.env);
    if (!settings.ok()) return settings.status();
    settings->prefix += (settings->prefix.empty() ? "" : "/") + std::string("binlogs/") + service;
    return storage::OpenStore(*settings, Context());
  }
};

Wiring::Wiring() : impl_(std::make_unique<Impl>()) {}
Wiring::~Wiring() = default;
hooks::Deps& Wiring::deps() { return impl_->deps; }

Result<std::unique_ptr<Wiring>> Wiring::Create(const Config& config, const Logger& log,
                                               std::chrono::milliseconds consul_timeout) {
  std::map<std::string, std::string> env(config.env.begin(), config.env.end());
  auto address = consul::ResolveConsulAddress(env);
  if (!address.ok()) return address.status();
  if (consul_timeout.count() > 0) address->timeout = std::min(address->timeout, consul_timeout);
  std::unique_ptr<Wiring> w(new Wiring());
  Impl& i = *w->impl_;
  i.transport = std::make_unique<http::SocketTransport>(address->tls);
  i.consul = std::make_unique<consul::HttpConsul>(i.transport.get(), *address);
  i.deps.config = &config;
  i.deps.log = log;
  i.deps.consul = i.consul.get();
  i.deps.connector = &i.connector;
  i.deps.runner = &i.runner;
  i.deps.fs = &i.fs;
  i.deps.clock = &i.clock;
  i.deps.open_store = [&i, &config]() { return i.OpenStore(config); };
  i.deps.store_cancel = &i.store_cancel;
  i.counters = std::make_unique<ops::Counters>(config.state_dir + "/counters");
  i.deps.counters = i.counters.get();
  i.deps.new_consul = [address = *address]() -> std::unique_ptr<consul::Consul> {
    auto transport = std::make_unique<http::SocketTransport>(address.tls);
    return std::make_unique<consul::HttpConsul>(std::move(transport), address);
  };
  i.deps.dumper = &i.dumper;
  i.deps.open_archive = [&i, &config](const std::string& service) {
    return i.OpenArchive(config, service);
  };
  i.deps.catch_termination = [] { return CatchTermination(); };
  std::string log_path = config.state_dir + "/detached.log";
  // A keeper talks to Consul from its own thread, so through its own client.
  Logger keeper_log = log;
  i.deps.keep_session = [new_consul = i.deps.new_consul, keeper_log](const std::string& session,
                                                                     std::chrono::seconds ttl,
                                                                     std::atomic<bool>* cancel) {
    return std::unique_ptr<consul::Keeper>(
        new consul::SessionKeeper(new_consul(), session, ttl, cancel, keeper_log));
  };
  i.deps.interactive = ::isatty(STDERR_FILENO) == 1;
  i.deps.out = [](std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); };
  i.deps.spawn_detached = [log_path](const std::vector<std::string>& args) {
    return SpawnDetached(log_path, args);
  };
  return w;
}

}  // namespace manage
