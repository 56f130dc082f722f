// CurlApi: libcurl's functions, loaded with dlopen on first use. `manage
// health` runs every few seconds and never talks to an object store; linking
// libcurl would load it and its dependency tree (about 30 shared libraries,
// 1.9 ms measured here, half a health check) into every run. Only the hooks
// that use an object store pay for it. LoadCurl is thread-safe; the table it
// returns lives until the process exits.
#pragma once

#define CURL_DISABLE_TYPECHECK  // the setopt macros do not apply to pointers
#include <curl/curl.h>

#include "core/status.h"

namespace manage::http {

struct CurlApi {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_reset) easy_reset;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_pause) easy_pause;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
  decltype(&curl_multi_init) multi_init;
  decltype(&curl_multi_cleanup) multi_cleanup;
  decltype(&curl_multi_add_handle) multi_add_handle;
  decltype(&curl_multi_remove_handle) multi_remove_handle;
  decltype(&curl_multi_perform) multi_perform;
  decltype(&curl_multi_poll) multi_poll;
  decltype(&curl_multi_info_read) multi_info_read;
  decltype(&curl_multi_strerror) multi_strerror;
};

// The loaded library (libcurl.so.4), global_init already called. Unavailable
// naming dlopen's error when it cannot be loaded or lacks a function.
Result<const CurlApi*> LoadCurl();

}  // namespace manage::http
