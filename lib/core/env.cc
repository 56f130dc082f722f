#include "core/env.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

extern char** environ;

namespace manage {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

Env ProcessEnv() {
  Env env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::string StripComment(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '#') continue;
    if (i == 0 || std::isspace(static_cast<unsigned char>(value[i - 1]))) {
      return std::string(value.substr(0, i));
    }
  }
  return std::string(value);
}

std::string ExpandVars(std::string_view value, const Env& env) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out += value[i++];
      continue;
    }
    size_t start = i + 1;
    bool braced = value[start] == '{';
    size_t name_begin = braced ? start + 1 : start;
    size_t name_end = name_begin;
    while (name_end < value.size() && IsNameChar(value[name_end])) ++name_end;
    bool closed = !braced || (name_end < value.size() && value[name_end] == '}');
    if (name_end == name_begin || !closed) {
      out += value[i++];
      continue;
    }
    std::string_view name = value.substr(name_begin, name_end - name_begin);
    size_t next = braced ? name_end + 1 : name_end;
    auto it = env.find(name);
    if (it != env.end()) {
      out += it->second;
    } else {
      out += value.substr(i, next - i);
    }
    i = next;
  }
  return out;
}

std::string CleanValue(std::string_view raw, const Env& env) {
  return ExpandVars(Trim(StripComment(raw)), env);
}

std::optional<bool> ParseFlag(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "1" || t == "yes" || t == "true" || t == "on") return true;
  if (t == "0" || t == "no" || t == "false" || t == "off") return false;
  return std::nullopt;
}

std::string EnvReader::String(const std::string& name, const std::string& fallback) const {
  auto it = env_.find(name);
  if (it == env_.end()) return fallback;
  std::string v = CleanValue(it->second, env_);
  return v.empty() ? fallback : v;
}

std::string EnvReader::Raw(const std::string& name) const {
  auto it = env_.find(name);
  return it == env_.end() ? std::string() : it->second;
}

bool EnvReader::Has(const std::string& name) const { return !String(name).empty(); }

int64_t EnvReader::Int(const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  std::string v = String(name);
  if (v.empty()) return fallback;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    Fail(name, fmt::format("'{}' is not a whole number", v));
    return fallback;
  }
  if (out < min || out > max) {
    Fail(name, fmt::format("{} is out of range [{}, {}]", out, min, max));
    return fallback;
  }
  return out;
}

bool EnvReader::Flag(const std::string& name, bool fallback) {
  std::string v = String(name);
  if (v.empty()) return fallback;
  auto parsed = ParseFlag(v);
  if (!parsed) {
    Fail(name, fmt::format("'{}' is not a flag (use yes/no, true/false or 1/0)", v));
    return fallback;
  }
  return *parsed;
}

void EnvReader::Fail(const std::string& name, const std::string& why) {
  if (error_.ok()) error_ = Status::InvalidArgument(fmt::format("{}: {}", name, why));
}

}  // namespace manage
