#include <fmt/format.h>

#include "hooks/hooks.h"

namespace manage::hooks {

Status CheckArgs(const Args& args, const std::vector<std::string>& allowed) {
  for (const std::string& a : args) {
    bool ok = false;
    for (const std::string& x : allowed) ok = ok || a == x;
    if (!ok) return Status::InvalidArgument(fmt::format("unknown argument '{}'", a));
  }
  return Status::Ok();
}

bool HasFlag(const Args& args, const std::string& flag) {
  for (const std::string& a : args) {
    if (a == flag) return true;
  }
  return false;
}

}  // namespace manage::hooks
