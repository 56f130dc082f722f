// Renders my.cnf from the shipped template (containerpilot/my.cnf.tmpl) by
// replacing {{NAME}} placeholders. Pure; the hook reads and writes the files.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/config.h"
#include "core/status.h"

namespace manage::cluster {

// Replaces every {{NAME}} with vars[NAME]. InvalidArgument names the first
// placeholder that has no value, so a template and binary never drift silently.
Result<std::string> RenderTemplate(const std::string& tmpl,
                                   const std::map<std::string, std::string>& vars);

// The placeholder values for this node.
std::map<std::string, std::string> MyCnfVars(const Config& config, uint32_t server_id);

// A server_id for a node that has none yet: derived from its IPv4 address, which
// is unique among the nodes of one network, so two fresh nodes never collide.
// The caller stores it and reuses it across restarts. Never 0 (reserved).
uint32_t ServerIdFromAddress(const std::string& ipv4);

}  // namespace manage::cluster
