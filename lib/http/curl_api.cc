#include "http/curl_api.h"

#include <mutex>
#include <string>

#include "sys/dynamic_library.h"

namespace manage::http {
namespace {

Result<const CurlApi*> Load() {
  auto lib = sys::DynamicLibrary::Open("libcurl.so.4",
                                       "install libcurl4, needed by the s3 and manta stores");
  if (!lib.ok()) return lib.status();
  static CurlApi api;  // written once, under the call_once below
  lib->Bind("curl_global_init", &api.global_init);
  lib->Bind("curl_easy_init", &api.easy_init);
  lib->Bind("curl_easy_cleanup", &api.easy_cleanup);
  lib->Bind("curl_easy_reset", &api.easy_reset);
  lib->Bind("curl_easy_setopt", &api.easy_setopt);
  lib->Bind("curl_easy_perform", &api.easy_perform);
  lib->Bind("curl_easy_getinfo", &api.easy_getinfo);
  lib->Bind("curl_easy_pause", &api.easy_pause);
  lib->Bind("curl_easy_strerror", &api.easy_strerror);
  lib->Bind("curl_slist_append", &api.slist_append);
  lib->Bind("curl_slist_free_all", &api.slist_free_all);
  lib->Bind("curl_multi_init", &api.multi_init);
  lib->Bind("curl_multi_cleanup", &api.multi_cleanup);
  lib->Bind("curl_multi_add_handle", &api.multi_add_handle);
  lib->Bind("curl_multi_remove_handle", &api.multi_remove_handle);
  lib->Bind("curl_multi_perform", &api.multi_perform);
  lib->Bind("curl_multi_poll", &api.multi_poll);
  lib->Bind("curl_multi_info_read", &api.multi_info_read);
  lib->Bind("curl_multi_strerror", &api.multi_strerror);
  MANAGE_RETURN_IF_ERROR(lib->Complete("libcurl 7.66 or newer is needed"));
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
