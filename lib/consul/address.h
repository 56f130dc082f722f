// Where the Consul agent is, read from the environment the way the Consul CLI
// and ContainerPilot read it. Pure function over a copy of the environment.
#pragma once

#include <map>
#include <string>

#include "consul/consul.h"
#include "core/status.h"

namespace manage::consul {

// Precedence: CONSUL_HTTP_ADDR (host[:port], http://host[:port] or https://...),
// then CONSUL_AGENT=1/yes/true (localhost:8500), then CONSUL (host[:port]),
// then "consul". A missing port means 8500. CONSUL_HTTP_SSL=true switches to
// https; CONSUL_HTTP_TOKEN, CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY
// and CONSUL_HTTP_SSL_VERIFY=false fill in the token and TLS options.
// InvalidArgument naming the variable for a unix:// address, an empty host, a bad
// port or a flag that is not a boolean.
Result<ConsulAddress> ResolveConsulAddress(const std::map<std::string, std::string>& env);

}  // namespace manage::consul
