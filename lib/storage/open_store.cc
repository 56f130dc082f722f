#include "storage/open_store.h"

#include "storage/local_store.h"

namespace manage::storage {

Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreSettings& settings,
                                               const StoreContext& context) {
  (void)context;
  if (settings.backend == "local") {
    std::string dir = settings.local_dir;
    if (!settings.prefix.empty()) dir += "/" + settings.prefix;
    return std::unique_ptr<ObjectStore>(new LocalStore(dir));
  }
  return Status::FailedPrecondition("snapshot backend '" + settings.backend +
                                    "' is not available in this build (SNAPSHOT_BACKEND=local "
                                    "works)");
}

}  // namespace manage::storage
