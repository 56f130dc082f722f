#include "storage/open_store.h"

#include <unistd.h>

#include "http/transport.h"
#include "storage/local_store.h"
#include "storage/s3_store.h"

namespace manage::storage {
namespace {

Result<std::unique_ptr<ObjectStore>> OpenS3(const StoreSettings& settings,
                                            const StoreContext& context) {
  http::TlsOptions tls;
  tls.ca_file = settings.s3.ca_file;
  if (!tls.ca_file.empty() && ::access(tls.ca_file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("AWS_CA_BUNDLE: cannot read '" + tls.ca_file + "'");
  }
  Result<std::unique_ptr<http::CurlTransport>> transport = http::CurlTransport::Create(tls);
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<ObjectStore>(
      new S3Store(settings.s3, settings.prefix, std::move(*transport), context));
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenStore(const StoreSettings& settings,
                                               const StoreContext& context) {
  if (settings.backend == "local") {
    std::string dir = settings.local_dir;
    if (!settings.prefix.empty()) dir += "/" + settings.prefix;
    return std::unique_ptr<ObjectStore>(new LocalStore(dir));
  }
  if (context.clock == nullptr) return Status::Internal("OpenStore: no clock");
  if (settings.backend == "s3") return OpenS3(settings, context);
  return Status::FailedPrecondition("snapshot backend '" + settings.backend +
                                    "' is not available in this build (SNAPSHOT_BACKEND=local "
                                    "or s3 works)");
}

}  // namespace manage::storage
