// Environment parsing with the original manage.py's rules: values may carry a
// trailing "# comment", "$VAR"/"${VAR}" references are expanded from the same
// environment, and flags accept yes/no/true/false/1/0. EnvReader collects the
// first error so a whole configuration can be read before reporting it.
// Pure functions over an Env snapshot; no global state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace manage {

using Env = std::map<std::string, std::string, std::less<>>;

// A snapshot of the process environment.
Env ProcessEnv();

// Removes a comment: everything from a '#' at the start of the value or after
// whitespace. A '#' inside a word (a password such as "pa#ss") is kept.
std::string StripComment(std::string_view value);
// Expands $NAME and ${NAME} from env; unknown names are left as written.
std::string ExpandVars(std::string_view value, const Env& env);
// StripComment, trim, then ExpandVars: what every variable goes through.
std::string CleanValue(std::string_view raw, const Env& env);

class EnvReader {
 public:
  explicit EnvReader(const Env& env) : env_(env) {}

  // The cleaned value, or `fallback` when unset or empty after cleaning.
  std::string String(const std::string& name, const std::string& fallback = "") const;
  // The raw value with no comment stripping or expansion (keys, certificates).
  std::string Raw(const std::string& name) const;
  bool Has(const std::string& name) const;
  int64_t Int(const std::string& name, int64_t fallback, int64_t min, int64_t max);
  bool Flag(const std::string& name, bool fallback);

  // Records an error about `name` unless one was recorded already.
  void Fail(const std::string& name, const std::string& why);
  // OK, or InvalidArgument naming the first bad variable.
  Status status() const { return error_; }

 private:
  const Env& env_;
  Status error_;
};

// Parses yes/no/true/false/on/off/1/0 in any case; nullopt for anything else.
std::optional<bool> ParseFlag(std::string_view text);

}  // namespace manage
