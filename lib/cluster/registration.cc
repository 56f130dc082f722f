#include "cluster/registration.h"

namespace manage::cluster {
namespace {

// What ContainerPilot sends for a job with a port and a TTL health check,
// once the check has passed (containerpilot.md, "Registration and heartbeats").
consul::ServiceRegistration JobService(const std::string& job, const std::string& hostname,
                                       int port, const std::string& address,
                                       std::chrono::seconds ttl) {
  consul::ServiceRegistration r;
  r.id = job + "-" + hostname;
  r.name = job;
  r.port = port;
  r.address = address;
  r.check_ttl = ttl;
  r.check_status = "passing";
  r.check_notes = "TTL for " + job + " set by containerpilot";
  return r;
}

// ContainerPilot takes whole seconds (its template renders the variable into
// an integer field).
std::chrono::seconds WholeSeconds(std::chrono::milliseconds ttl) {
  return std::chrono::duration_cast<std::chrono::seconds>(ttl);
}

}  // namespace

consul::ServiceRegistration NodeService(const Config& config) {
  consul::ServiceRegistration r =
      JobService(config.service_name, config.hostname, config.mysql.port,
                 config.containerpilot.service_address, WholeSeconds(config.health.ttl));
  r.tags = config.containerpilot.service_tags;
  return r;
}

consul::ServiceRegistration PrimaryService(const Config& config) {
  return JobService(config.primary_service, config.hostname, config.mysql.port,
                    config.containerpilot.primary_address, WholeSeconds(config.health.primary_ttl));
}

}  // namespace manage::cluster
