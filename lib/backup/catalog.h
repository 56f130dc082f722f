// The snapshots a store holds, as their manifests describe them. Each
// snapshot is two objects: "<id>" (the stored stream) and "<id>.json", its
// BackupRecord, written once the stream has committed. `manage backup list`,
// retention and restores read the manifests; an object without a manifest is
// an orphan (a crash between the two writes) and is listed as such. Not
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backup/backup_record.h"
#include "storage/object_store.h"

namespace manage::backup {

std::string ManifestName(const std::string& id);
bool IsManifestName(std::string_view name);

// Writes the manifest of `record` (replacing one that exists).
Status WriteManifest(storage::ObjectStore& store, const BackupRecord& record);
// NotFound when snapshot `id` has no manifest.
Result<BackupRecord> ReadManifest(storage::ObjectStore& store, const std::string& id);

struct Catalog {
  std::vector<BackupRecord> snapshots;       // newest first
  std::vector<storage::ObjectInfo> orphans;  // objects no manifest describes
  std::vector<std::string> problems;         // manifests that could not be read, and why
};

// Reads every manifest under the store's prefix. A manifest that cannot be
// read is a problem, not a failure; listing the store failing is.
Result<Catalog> ReadCatalog(storage::ObjectStore& store);

// Deletes the snapshot's stream, then its manifest (so an interrupted
// deletion still shows in the catalog and can be repeated). A missing
// object is not an error.
Status DeleteSnapshot(storage::ObjectStore& store, const std::string& id);

}  // namespace manage::backup
