#include "core/status.h"

#include <catch2/catch.hpp>

namespace manage {
namespace {

Status Fails() { return Status::Aborted("lost the race"); }
Status Chain() {
  MANAGE_RETURN_IF_ERROR(Fails());
  return Status::Internal("not reached");
}

TEST_CASE("Status carries code and message") {
  CHECK(Status::Ok().ok());
  CHECK(Status::Ok().ToString() == "OK");
  Status s = Status::NotFound("key 'x'").Annotate("reading backup");
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.ToString() == "NotFound: reading backup: key 'x'");
  CHECK(Chain().code() == Code::kAborted);
}

TEST_CASE("Result holds a value or a status") {
  Result<int> good = 3;
  Result<int> bad = Status::Unavailable("down");
  CHECK(good.ok());
  CHECK(*good == 3);
  CHECK(good.status().ok());
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kUnavailable);
}

}  // namespace
}  // namespace manage
