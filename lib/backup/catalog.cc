#include "backup/catalog.h"

#include <algorithm>
#include <map>
#include <memory>

namespace manage::backup {
namespace {

constexpr char kManifestSuffix[] = ".json";
constexpr size_t kMaxManifestBytes = 64 * 1024;

}  // namespace

std::string ManifestName(const std::string& id) { return id + kManifestSuffix; }

bool IsManifestName(std::string_view name) {
  return name.size() > sizeof kManifestSuffix - 1 && name.ends_with(kManifestSuffix);
}

Status WriteManifest(storage::ObjectStore& store, const BackupRecord& record) {
  auto writer = store.Create(ManifestName(record.id));
  if (!writer.ok()) return writer.status().Annotate("manifest of " + record.id);
  Status st = (*writer)->Write(SerializeBackupRecord(record));
  if (st.ok()) st = (*writer)->Commit();
  if (!st.ok()) {
    (*writer)->Abort();
    return st.Annotate("manifest of " + record.id);
  }
  return Status::Ok();
}

Result<BackupRecord> ReadManifest(storage::ObjectStore& store, const std::string& id) {
  std::string json;
  Status read = store.Read(ManifestName(id), [&json](std::string_view chunk) {
    if (json.size() + chunk.size() > kMaxManifestBytes) {
      return Status::Internal("manifest larger than 64 KiB");
    }
    json.append(chunk);
    return Status::Ok();
  });
  if (!read.ok()) return read.Annotate("manifest of " + id);
  Result<BackupRecord> record = ParseBackupRecord(json);
  if (!record.ok()) return record.status().Annotate("manifest of " + id);
  if (record->id != id) {
    return Status::Internal("manifest of " + id + " describes '" + record->id + "'");
  }
  return record;
}

Result<Catalog> ReadCatalog(storage::ObjectStore& store) {
  auto listed = store.List("");
  if (!listed.ok()) return listed.status().Annotate("list " + store.Location());
  std::map<std::string, storage::ObjectInfo> streams;
  std::vector<std::string> manifests;
  for (const storage::ObjectInfo& o : *listed) {
    if (IsManifestName(o.name)) {
      manifests.push_back(o.name.substr(0, o.name.size() - (sizeof kManifestSuffix - 1)));
    } else {
      streams.emplace(o.name, o);
    }
  }
  Catalog c;
  for (const std::string& id : manifests) {
    Result<BackupRecord> record = ReadManifest(store, id);
    if (!record.ok()) {
      c.problems.push_back(record.status().message());
      continue;
    }
    if (streams.erase(id) == 0) c.problems.push_back("snapshot " + id + ": its object is missing");
    c.snapshots.push_back(std::move(*record));
  }
  for (auto& [name, info] : streams) c.orphans.push_back(std::move(info));
  std::sort(c.snapshots.begin(), c.snapshots.end(),
            [](const BackupRecord& a, const BackupRecord& b) {
              return a.time != b.time ? a.time > b.time : a.id > b.id;
            });
  return c;
}

Status DeleteSnapshot(storage::ObjectStore& store, const std::string& id) {
  for (const std::string& name : {id, ManifestName(id)}) {
    Status st = store.Remove(name);
    if (!st.ok() && st.code() != Code::kNotFound) return st.Annotate("delete " + name);
  }
  return Status::Ok();
}

}  // namespace manage::backup
