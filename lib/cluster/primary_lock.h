// PrimaryLock: this node's hold on PRIMARY_KEY through a Consul session.
//
// Who holds what: PRIMARY_KEY is held by the primary's session. The session is
// tied to the node's own ${SERVICE_NAME} health check (service:<node>), so it
// dies when ContainerPilot stops heartbeating (mysqld unhealthy, container
// frozen or killed: one check TTL) or deregisters (clean stop: at once), and
// otherwise after 1-2x SESSION_TTL without renewal. Nothing else can end it:
// that is what gives the primary its lease (lease.h). With CONSUL_AGENT, the
// check lives on an agent that dies with the container, so the session is also
// tied to that agent's serfHealth (and there is no lease).
// The session ID is kept in the state dir so a restarted node can renew the
// session it already holds. A renewal answered 404 means the session is gone:
// the ID is forgotten at once (never retried), and the next pass starts over.
// Not thread-safe; one per hook run.
#pragma once

#include <string>

#include "cluster/node_state.h"
#include "cluster/role.h"
#include "consul/consul.h"
#include "core/config.h"
#include "core/status.h"

namespace manage::cluster {

class PrimaryLock {
 public:
  // Borrowed pointers must outlive this object.
  PrimaryLock(const Config* config, consul::Consul* consul, NodeState* state)
      : config_(config), consul_(consul), state_(state) {}

  // PRIMARY_KEY as Consul sees it now (not held when the key is absent).
  Result<LockView> Read();

  // Renews the stored session. NotFound when it is gone (the stored ID is
  // cleared); Unavailable when Consul cannot be reached.
  Status Renew();

  // Creates a session (when none is stored) and tries to acquire PRIMARY_KEY.
  // Returns false when another session holds it or it is in lock-delay.
  // When Consul does not know this node's health check (ContainerPilot has not
  // registered it yet, or Consul lost it), registers the node's service as
  // ContainerPilot does (registration.h) and tries once more. Once the lock is
  // taken, registers the ${SERVICE_NAME}-primary service too, which Consul may
  // have lost with the rest. FailedPrecondition when the check is not passing:
  // Consul refuses to tie a session to it.
  Result<bool> Acquire();

  // Releases PRIMARY_KEY and destroys the session (planned hand-over). The
  // key's value becomes `next_holder`: the only node that may take it now
  // (DecideRole), never this one coming back with stale data.
  Status Release(const std::string& next_holder);

  consul::SessionSpec Spec() const;

 private:
  const Config* config_;
  consul::Consul* consul_;
  NodeState* state_;
};

}  // namespace manage::cluster
