#include <catch2/catch.hpp>

#include "storage/object_store.h"

namespace manage::storage {
namespace {

TEST_CASE("ValidateObjectName") {
  auto [name, ok] = GENERATE(table<std::string, bool>({
      {"mysql-backup-2026-11-23T04-00-00Z", true},
      {"a", true},
      {"backup.xbstream", true},
      {std::string(255, 'n'), true},
      {"", false},
      {std::string(256, 'n'), false},
      {"dir/name", false},
      {"/abs", false},
      {"..", false},
      {"a..b", false},
      {".hidden", false},
      {"x.partial", false},
      {"tab\there", false},
      {std::string("nul\0x", 5), false},
  }));
  CAPTURE(name);
  Status st = ValidateObjectName(name);
  CHECK(st.ok() == ok);
  if (!ok) CHECK(st.code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace manage::storage
