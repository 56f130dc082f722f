// Deps: everything a hook needs from the outside world, as interfaces. cmd/
// wiring fills it with real implementations; tests fill it with fakes.
// Pointers are borrowed and must outlive the hook call.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "consul/consul.h"
#include "core/config.h"
#include "core/log.h"
#include "mysql/client.h"
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
  // The snapshot store; nullptr when the configured backend is not available.
  storage::ObjectStore* store = nullptr;
  // Starts `argv` (this binary's subcommand) detached from the calling hook, so
  // long work such as the first snapshot never holds up a health check.
  std::function<Status(const std::vector<std::string>& argv)> spawn_detached;
  // Asked right before mysqld is made writable; false: stay read-only (a
  // health pass whose watchdog fenced it). Unset: always allowed.
  std::function<bool()> may_unfence;
  // A health pass: ContainerPilot kills it at HEALTH_TIMEOUT, so work that
  // takes seconds (a flashback) goes to a detached hook instead.
  bool in_health_pass = false;
};

}  // namespace manage::hooks
