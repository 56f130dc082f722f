// LocalStore: an ObjectStore in a local directory (STORAGE_DIR). An object is
// written to "<dir>/<name>.partial", fsynced, then renamed to "<dir>/<name>",
// so readers never see a half-written object. Not thread-safe; two writers of
// the same name at once are not supported.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace manage::storage {

class LocalStore final : public ObjectStore {
 public:
  // The directory is created on the first Create if it does not exist.
  explicit LocalStore(std::string dir);

  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& name) override;
  Status Read(const std::string& name, const sys::OutputSink& sink) override;
  Result<ObjectInfo> Stat(const std::string& name) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Remove(const std::string& name) override;
  std::string Location() const override { return "local:" + dir_; }

 private:
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

}  // namespace manage::storage
