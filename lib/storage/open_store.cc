#include "storage/open_store.h"

#include <unistd.h>

#include "http/transport.h"
#include "storage/local_store.h"
#include "storage/manta_store.h"
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

Result<std::unique_ptr<ObjectStore>> OpenManta(const StoreSettings& settings,
                                               const StoreContext& context) {
  const MantaSettings& m = settings.manta;
  auto signer = MantaSigner::Create(m);
  if (!signer.ok()) return signer.status();
  http::TlsOptions tls;
  tls.verify = !m.tls_insecure;
  auto transport = http::CurlTransport::Create(tls);
  if (!transport.ok()) return transport.status();
  MantaStoreOptions options;
  options.url = m.url;
  options.directory = m.directory + (settings.prefix.empty() ? "" : "/" + settings.prefix);
  options.max_object_size = m.max_object_size;
  options.clock = context.clock;
  options.cancel = context.cancel;
  options.on_retry = context.on_retry;
  options.retry = context.retry;
  return std::unique_ptr<ObjectStore>(
      new MantaStore(std::move(*transport), std::move(*signer), std::move(options)));
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
  if (settings.backend == "manta") return OpenManta(settings, context);
  return Status::FailedPrecondition("snapshot backend '" + settings.backend +
                                    "' is not one of local, s3, manta");
}

}  // namespace manage::storage
