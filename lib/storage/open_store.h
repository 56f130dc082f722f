// OpenStore: the ObjectStore a StoreSettings names, with everything a network
// store needs from outside (clock for backoff, cancel flag, retry logging).
// Only cmd/ wiring and operator tools call it.
#pragma once

#include <atomic>
#include <memory>

#include "core/status.h"
#include "storage/object_store.h"
#include "storage/retry.h"
#include "storage/settings.h"
#include "sys/clock.h"

namespace manage::storage {

struct StoreContext {
  sys::Clock* clock = nullptr;                // REQUIRED; outlives the store
  const std::atomic<bool>* cancel = nullptr;  // raised: transfers stop with Aborted
  RetryObserver on_retry;                     // told of each retried failure
  RetryPolicy retry;
};

// Unavailable when the backend's library cannot be loaded; InvalidArgument for
// settings that cannot work (a CA file that does not exist, an unreadable key).
Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreSettings& settings,
                                               const StoreContext& context);

}  // namespace manage::storage
