// Helpers for tests of any ObjectStore: read an object whole, list names.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace manage::storage {

inline Result<std::string> ReadAll(ObjectStore& store, const std::string& name) {
  std::string out;
  Status st = store.Read(name, [&out](std::string_view chunk) {
    out.append(chunk);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

// The names List("") returns, in its order. REQUIRES the listing to succeed.
inline std::vector<std::string> Names(ObjectStore& store) {
  Result<std::vector<ObjectInfo>> list = store.List("");
  REQUIRE(list.ok());
  std::vector<std::string> names;
  for (const ObjectInfo& o : *list) names.push_back(o.name);
  return names;
}

}  // namespace manage::storage
