// Wiring: builds the real implementations (Consul over libcurl, MariaDB
// Connector/C, POSIX processes and files, the configured object store) from a
// Config. Only cmd/ creates real dependencies; lib/ takes interfaces.
#pragma once

#include <chrono>
#include <memory>

#include "core/config.h"
#include "hooks/deps.h"

namespace manage {

// Facts about this host that configuration defaults depend on.
HostFacts ReadHostFacts();

// Owns every real dependency and hands out a hooks::Deps pointing at them.
class Wiring {
 public:
  // InvalidArgument when a Consul or store setting is invalid. A non-zero
  // `consul_timeout` caps each Consul request (health: README, fencing timing).
  static Result<std::unique_ptr<Wiring>> Create(
      const Config& config, const Logger& log,
      std::chrono::milliseconds consul_timeout = std::chrono::milliseconds(0));
  ~Wiring();
  hooks::Deps& deps();

 private:
  Wiring();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace manage
