// MemorySpool: an archive::Spool in memory that counts what it was asked to
// do. Not thread-safe.
#pragma once

#include <string>

#include "archive/spool.h"

namespace manage::archive {

class MemorySpool final : public Spool {
 public:
  uint64_t size() const override { return data_.size(); }
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::Ok();
  }
  Status Read(uint64_t from, uint64_t to, const sys::OutputSink& sink) override {
    if (from > to || to > data_.size()) return Status::Internal("bad spool range");
    return sink(std::string_view(data_).substr(from, to - from));
  }
  Status DropBefore(uint64_t from) override {
    data_.erase(0, from);
    ++drops;
    return Status::Ok();
  }
  const std::string& data() const { return data_; }
  int drops = 0;

 private:
  std::string data_;
};

}  // namespace manage::archive
