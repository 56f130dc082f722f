// StoreSettings: where snapshots go, read from the environment with the
// original manage.py's variables and defaults (MANTA_*, MINIO_*, AWS_*) plus
// what AWS users expect (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN,
// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL[_S3], AWS_CA_BUNDLE). Read only by the
// commands that use a store, so a node whose store is misconfigured still
// passes its health checks. Pure: table-tested without a network.
#pragma once

#include <cstdint>
#include <string>

#include "core/env.h"
#include "core/status.h"

namespace manage::storage {

enum class S3Addressing {
  kAuto,     // virtual-hosted for AWS endpoints and DNS-safe buckets, else path
  kPath,     // https://endpoint/bucket/key
  kVirtual,  // https://bucket.endpoint/key
};

struct S3Settings {
  std::string endpoint;  // scheme://host[:port], no trailing '/'
  std::string region = "us-east-1";
  std::string bucket = "backups";
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary credentials; empty: none
  S3Addressing addressing = S3Addressing::kAuto;
  std::string ca_file;  // empty: the system's CA certificates
};

struct MantaSettings {
  std::string url = "https://us-east.manta.joyent.com";  // no trailing '/'
  std::string user;
  std::string subuser;      // empty: the account's own key
  std::string role;         // sent in the Role header; empty: none
  std::string key_id;       // MD5 fingerprint "aa:bb:..."; empty: computed from the key
  std::string private_key;  // PEM or OpenSSH text with real newlines
  std::string directory;    // MANTA_BUCKET, default "/<user>/stor"; no trailing '/'
  bool tls_insecure = false;
  // MANTA_MAX_OBJECT_SIZE_GB in bytes: the largest object a streamed upload
  // may become (Max-Content-Length); 0: Manta's own limit, 5 GiB.
  uint64_t max_object_size = 0;
};

struct StoreSettings {
  std::string backend;    // "local", "s3" or "manta" (SNAPSHOT_BACKEND; "minio" is "s3")
  std::string local_dir;  // STORAGE_DIR, for "local"
  // SNAPSHOT_PREFIX: a path of directories inside the bucket (or STORAGE_DIR)
  // that holds this cluster's objects, so that several clusters can share
  // one; no leading or trailing '/', empty for the top level.
  std::string prefix;
  S3Settings s3;
  MantaSettings manta;
};

// The settings of the configured backend (SNAPSHOT_BACKEND or BACKUP_DRIVER:
// local, s3, minio, manta); only that backend's variables are read and
// checked. InvalidArgument names the first variable that is missing or wrong.
Result<StoreSettings> ReadStoreSettings(const Env& env);

// MANTA_PRIVATE_KEY as env files carry it: the original allowed '#' for each
// newline. A value that already holds a newline is returned unchanged.
std::string UnfoldPrivateKey(const std::string& value);

}  // namespace manage::storage
