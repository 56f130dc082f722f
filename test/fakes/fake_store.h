// FakeStore: an in-memory ObjectStore that keeps committed objects apart from
// writers in progress, counts commits and aborts, and can be told to fail.
// Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace manage::storage {

class FakeStore final : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;                           // committed
  std::map<std::string, std::chrono::system_clock::time_point> mtimes;  // default: epoch
  std::vector<std::string> removed;                                     // names, in order
  int commits = 0;
  int aborts = 0;
  int open_writers = 0;
  Status create_error;
  Status write_error;  // returned by every Write once set
  Status commit_error;
  Status read_error;  // returned by Read after the first chunk
  Status list_error;
  Status remove_error;

  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& name) override {
    MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
    if (!create_error.ok()) return create_error;
    ++open_writers;
    return std::unique_ptr<ObjectWriter>(new Writer(this, name));
  }

  Status Read(const std::string& name, const sys::OutputSink& sink) override {
    auto it = objects.find(name);
    if (it == objects.end()) return Status::NotFound("no object " + name);
    std::string_view data = it->second;
    for (size_t pos = 0; pos < data.size(); pos += 3) {
      MANAGE_RETURN_IF_ERROR(sink(data.substr(pos, 3)));
      if (!read_error.ok()) return read_error;
    }
    return Status::Ok();
  }

  Result<ObjectInfo> Stat(const std::string& name) override {
    auto it = objects.find(name);
    if (it == objects.end()) return Status::NotFound("no object " + name);
    return ObjectInfo{name, it->second.size(), mtimes[name], ""};
  }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    if (!list_error.ok()) return list_error;
    std::vector<ObjectInfo> out;
    for (const auto& [name, data] : objects) {
      if (name.starts_with(prefix)) out.push_back({name, data.size(), mtimes[name], ""});
    }
    return out;
  }

  Status Remove(const std::string& name) override {
    if (!remove_error.ok()) return remove_error;
    removed.push_back(name);
    return objects.erase(name) ? Status::Ok() : Status::NotFound("no object " + name);
  }

  std::string Location() const override { return "fake:"; }

 private:
  class Writer final : public ObjectWriter {
   public:
    Writer(FakeStore* store, std::string name) : store_(store), name_(std::move(name)) {}
    ~Writer() override { Abort(); }
    Status Write(std::string_view data) override {
      if (done_) return Status::FailedPrecondition("writer closed");
      if (!store_->write_error.ok()) return store_->write_error;
      data_.append(data);
      return Status::Ok();
    }
    Status Commit() override {
      if (done_) return Status::FailedPrecondition("writer closed");
      if (!store_->commit_error.ok()) {
        Abort();
        return store_->commit_error;
      }
      done_ = true;
      --store_->open_writers;
      ++store_->commits;
      store_->objects[name_] = data_;
      return Status::Ok();
    }
    void Abort() override {
      if (done_) return;
      done_ = true;
      --store_->open_writers;
      ++store_->aborts;
    }

   private:
    FakeStore* store_;
    std::string name_;
    std::string data_;
    bool done_ = false;
  };
};

// A store that forwards to one it does not own, for code that wants to own
// the store it opens (Deps::open_archive) while a test keeps the FakeStore.
class BorrowedStore final : public ObjectStore {
 public:
  explicit BorrowedStore(ObjectStore* store) : store_(store) {}
  Result<std::unique_ptr<ObjectWriter>> Create(const std::string& name) override {
    return store_->Create(name);
  }
  Status Read(const std::string& name, const sys::OutputSink& sink) override {
    return store_->Read(name, sink);
  }
  Result<ObjectInfo> Stat(const std::string& name) override { return store_->Stat(name); }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    return store_->List(prefix);
  }
  Status Remove(const std::string& name) override { return store_->Remove(name); }
  std::string Location() const override { return store_->Location(); }

 private:
  ObjectStore* store_;
};

}  // namespace manage::storage
