// DynamicLibrary: a shared library opened with dlopen, for the few that only
// some commands need (libcurl for object stores, libmicrohttpd for `manage
// serve`): linking them would load them, and their dependencies, into every
// health check. Never closed: the functions it resolves live until exit.
#pragma once

#include <string>

#include "core/status.h"

namespace manage::sys {

class DynamicLibrary {
 public:
  // Opens `name` (e.g. "libcurl.so.4"). Unavailable with the loader's reason
  // and `needed_by` (what to install, for what) when it cannot be loaded.
  static Result<DynamicLibrary> Open(const std::string& name, const std::string& needed_by);

  // Points *fn at `symbol`, or records it as missing (the first one is kept).
  template <typename Fn>
  void Bind(const char* symbol, Fn* fn) {
    *fn = reinterpret_cast<Fn>(Find(symbol));
  }
  // OK when every Bind found its symbol; else Unavailable naming the first missing.
  Status Complete(const std::string& needed_version) const;

 private:
  DynamicLibrary(void* handle, std::string name) : handle_(handle), name_(std::move(name)) {}
  void* Find(const char* symbol);

  void* handle_;
  std::string name_;
  std::string missing_;
};

}  // namespace manage::sys
