#include "storage/open_store.h"

#include <catch2/catch.hpp>
#include <string>

#include "fakes/fake_clock.h"

namespace manage::storage {
namespace {

StoreSettings S3(std::string ca_file = "") {
  StoreSettings s;
  s.backend = "s3";
  s.prefix = "team/a";
  s.s3.endpoint = "https://s3.eu-west-1.amazonaws.com";
  s.s3.bucket = "backups";
  s.s3.access_key = "AKID";
  s.s3.secret_key = "secret";
  s.s3.ca_file = std::move(ca_file);
  return s;
}

TEST_CASE("OpenStore opens an S3 store, checking its CA file") {
  sys::FakeClock clock;
  StoreContext context;
  context.clock = &clock;
  Result<std::unique_ptr<ObjectStore>> store = OpenStore(S3(), context);
  REQUIRE(store.ok());
  CHECK((*store)->Location() == "s3://backups/team/a/");

  Result<std::unique_ptr<ObjectStore>> no_ca = OpenStore(S3("/nonexistent/ca.pem"), context);
  CHECK(no_ca.status().code() == Code::kInvalidArgument);
  CHECK(no_ca.status().message().find("AWS_CA_BUNDLE") != std::string::npos);

  StoreContext no_clock;
  CHECK(OpenStore(S3(), no_clock).status().code() == Code::kInternal);

  StoreSettings manta;
  manta.backend = "manta";  // no key: refused before anything is sent
  CHECK(OpenStore(manta, context).status().code() == Code::kInvalidArgument);
  StoreSettings unknown;
  unknown.backend = "gcs";
  CHECK(OpenStore(unknown, context).status().code() == Code::kFailedPrecondition);
}

}  // namespace
}  // namespace manage::storage
