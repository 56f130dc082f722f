// The services containerpilot.json5 has ContainerPilot register for this node,
// built as ContainerPilot 3 builds them, so that manage can register them again
// when Consul has lost them: a restarted dev agent, or any agent that lost its
// state. ContainerPilot registers a service once and never again (its
// heartbeats then get 500 "CheckID ... does not have associated TTL"), so
// without this the node's check, and every session tied to it, could never
// come back. Registering an identical definition again changes nothing in
// Consul (the check keeps its status). Pure functions of the configuration.
#pragma once

#include "consul/consul.h"
#include "core/config.h"

namespace manage::cluster {

// The ${SERVICE_NAME} job's service: ID "<service>-<hostname>" (NodeName), the
// tags of containerpilot.json5, check TTL HEALTH_TTL.
consul::ServiceRegistration NodeService(const Config& config);

// The ${SERVICE_NAME}-primary job's service: ID "<service>-primary-<hostname>",
// no tags, check TTL PRIMARY_HEALTH_TTL. Only the holder of PRIMARY_KEY may
// register it (its check passes only there).
consul::ServiceRegistration PrimaryService(const Config& config);

}  // namespace manage::cluster
