// GET /: one HTML page with its style and script inline (no build step, no
// external assets). The script fetches /cluster every `refresh` and shows
// every node (role, address, health, lag, GTID, read_only), the lock holder,
// the newest snapshot and the failover history. Pure.
#pragma once

#include <chrono>
#include <string>

namespace manage::serve {

std::string StatusPage(const std::string& service, std::chrono::milliseconds refresh);

}  // namespace manage::serve
