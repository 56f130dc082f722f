// Deps: everything a hook needs from the outside world, as interfaces. cmd/
// wiring fills it with real implementations; tests fill it with fakes.
// Pointers are borrowed and must outlive the hook call.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "consul/consul.h"
#include "consul/session_keeper.h"
#include "core/config.h"
#include "core/log.h"
#include "mysql/binlog_stream.h"
#include "mysql/client.h"
#include "ops/counters.h"
#include "storage/object_store.h"
#include "sys/clock.h"
#include "sys/fs.h"
#include "sys/process.h"

namespace manage::hooks {

struct Deps {
  const Config* config = nullptr;
  Logger log = Logger(nullptr, LogLevel::kError, false);
  consul::Consul* consul = nullptr;
  mysql::Connector* connector = nullptr;
  sys::ProcessRunner* runner = nullptr;
  sys::FileSystem* fs = nullptr;
  sys::Clock* clock = nullptr;
  // Opens the snapshot store on first call (later calls return the same one).
  // Fails with the configuration error (InvalidArgument) or why the store
  // cannot be used; hooks that need no store never call it, so they never
  // load its libraries or depend on its settings.
  std::function<Result<storage::ObjectStore*>()> open_store;
  // Raised (from any thread) to make the store's transfers stop with Aborted,
  // for instance when the backup lock is lost; may be null.
  std::atomic<bool>* store_cancel = nullptr;
  // Reads binary logs (the binlog archive); may be null for hooks that do not.
  mysql::BinlogDumper* dumper = nullptr;
  // Opens the binlog archive of cluster `service`: a store of its own under
  // the snapshot store's directory (<SNAPSHOT_PREFIX>/binlogs/<service>).
  // Each call opens a new one; the same errors as open_store.
  std::function<Result<std::unique_ptr<storage::ObjectStore>>(const std::string& service)>
      open_archive;
  // Makes SIGTERM and SIGINT raise the returned flag instead of ending the
  // process, for a long-running command that stops cleanly. May be unset.
  std::function<const std::atomic<bool>*()> catch_termination;
  // Keeps `session` (TTL `ttl`) alive from another thread while long work
  // runs, raising *cancel if it is lost (consul/session_keeper.h). May be
  // unset: the session is then only renewed by the work itself.
  std::function<std::unique_ptr<consul::Keeper>(
      const std::string& session, std::chrono::seconds ttl, std::atomic<bool>* cancel)>
      keep_session;
  // Writes a command's report (stdout in the binary).
  std::function<void(std::string_view text)> out;
  // Whether progress of long transfers may be shown (stderr is a terminal:
  // an operator's command, not a hook).
  bool interactive = false;
  // Starts `argv` (this binary's subcommand) detached from the calling hook, so
  // long work such as the first snapshot never holds up a health check.
  std::function<Status(const std::vector<std::string>& argv)> spawn_detached;
  // Asked right before mysqld is made writable; false: stay read-only (a
  // health pass whose watchdog fenced it). Unset: always allowed.
  std::function<bool()> may_unfence;
  // A health pass: ContainerPilot kills it at HEALTH_TIMEOUT, so work that
  // takes seconds (a flashback) goes to a detached hook instead.
  bool in_health_pass = false;
  // What this node's hooks did, for `manage serve`'s metrics; may be null.
  ops::Counters* counters = nullptr;
  // A Consul client of its own, for another thread (`manage serve`); may be unset.
  std::function<std::unique_ptr<consul::Consul>()> new_consul;
};

}  // namespace manage::hooks
