// Renders Consul results as short strings so that table rows can state the
// expected outcome of any call in one field: "ok", "true", "NotFound", ...
#pragma once

#include <string>
#include <vector>

#include "consul/consul.h"
#include "core/status.h"

namespace manage::consul {

inline std::string Render(const Status& status) {
  return status.ok() ? "ok" : CodeName(status.code());
}

inline std::string Render(bool value) { return value ? "true" : "false"; }

inline std::string Render(const std::string& value) { return value; }

// Indexes other than LockIndex differ between servers, so they are left out.
inline std::string Render(const KvPair& pair) {
  return "key=" + pair.key + " value=" + pair.value + " session=" + pair.session +
         " lock_index=" + std::to_string(pair.lock_index);
}

inline std::string Render(const ServiceInstance& instance) {
  std::string out = instance.id + " " + instance.service + " " + instance.node + " " +
                    instance.address + ":" + std::to_string(instance.port);
  for (const std::string& tag : instance.tags) out += " #" + tag;
  return out + (instance.passing ? " passing" : " failing");
}

template <typename T>
std::string Render(const std::vector<T>& values) {
  std::string out;
  for (const T& value : values) out += (out.empty() ? "" : "; ") + Render(value);
  return out;
}

template <typename T>
std::string Render(const Result<T>& result) {
  return result.ok() ? Render(*result) : Render(result.status());
}

}  // namespace manage::consul
