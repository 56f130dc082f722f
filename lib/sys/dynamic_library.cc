#include "sys/dynamic_library.h"

#include <dlfcn.h>

namespace manage::sys {

Result<DynamicLibrary> DynamicLibrary::Open(const std::string& name, const std::string& needed_by) {
  void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return Status::Unavailable("cannot load " + name + ": " +
                               (why != nullptr ? why : "unknown error") + " (" + needed_by + ")");
  }
  return DynamicLibrary(handle, name);
}

void* DynamicLibrary::Find(const char* symbol) {
  void* found = ::dlsym(handle_, symbol);
  if (found == nullptr && missing_.empty()) missing_ = symbol;
  return found;
}

Status DynamicLibrary::Complete(const std::string& needed_version) const {
  if (missing_.empty()) return Status::Ok();
  return Status::Unavailable(name_ + " lacks " + missing_ + " (" + needed_version + ")");
}

}  // namespace manage::sys
