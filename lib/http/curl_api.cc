#include "http/curl_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace manage::http {
namespace {

constexpr char kLibrary[] = "libcurl.so.4";

template <typename Fn>
bool Resolve(void* lib, const char* name, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(::dlsym(lib, name));
  if (*fn == nullptr && missing->empty()) *missing = name;
  return *fn != nullptr;
}

Result<const CurlApi*> Load() {
  void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    return Status::Unavailable(std::string("cannot load ") + kLibrary + ": " +
                               (why != nullptr ? why : "unknown error") +
                               " (install libcurl4, needed by the s3 and manta stores)");
  }
  static CurlApi api;  // written once, under the call_once below
  std::string missing;
  Resolve(lib, "curl_global_init", &api.global_init, &missing);
  Resolve(lib, "curl_easy_init", &api.easy_init, &missing);
  Resolve(lib, "curl_easy_cleanup", &api.easy_cleanup, &missing);
  Resolve(lib, "curl_easy_reset", &api.easy_reset, &missing);
  Resolve(lib, "curl_easy_setopt", &api.easy_setopt, &missing);
  Resolve(lib, "curl_easy_perform", &api.easy_perform, &missing);
  Resolve(lib, "curl_easy_getinfo", &api.easy_getinfo, &missing);
  Resolve(lib, "curl_easy_pause", &api.easy_pause, &missing);
  Resolve(lib, "curl_easy_strerror", &api.easy_strerror, &missing);
  Resolve(lib, "curl_slist_append", &api.slist_append, &missing);
  Resolve(lib, "curl_slist_free_all", &api.slist_free_all, &missing);
  Resolve(lib, "curl_multi_init", &api.multi_init, &missing);
  Resolve(lib, "curl_multi_cleanup", &api.multi_cleanup, &missing);
  Resolve(lib, "curl_multi_add_handle", &api.multi_add_handle, &missing);
  Resolve(lib, "curl_multi_remove_handle", &api.multi_remove_handle, &missing);
  Resolve(lib, "curl_multi_perform", &api.multi_perform, &missing);
  Resolve(lib, "curl_multi_poll", &api.multi_poll, &missing);
  Resolve(lib, "curl_multi_info_read", &api.multi_info_read, &missing);
  Resolve(lib, "curl_multi_strerror", &api.multi_strerror, &missing);
  if (!missing.empty()) {
    return Status::Unavailable(std::string(kLibrary) + " lacks " + missing +
                               " (libcurl 7.66 or newer is needed)");
  }
  // Once per process, before any other thread uses libcurl.
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return Status::Internal("curl_global_init failed");
  }
  return &api;
}

}  // namespace

Result<const CurlApi*> LoadCurl() {
  static std::once_flag once;
  static Result<const CurlApi*> loaded = Status::Internal("libcurl not loaded");
  std::call_once(once, [] { loaded = Load(); });
  return loaded;
}

}  // namespace manage::http
