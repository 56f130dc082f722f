#include "mysql/flavor.h"

#include <catch2/catch.hpp>

namespace manage::mysql {
namespace {

TEST_CASE("DetectFlavor and ParseVersion read server version strings") {
  struct Case {
    const char* text;
    Flavor flavor;
    Version version;
  };
  const Case cases[] = {
      {"10.11.6-MariaDB-0+deb12u1-log", Flavor::kMariaDb, {10, 11, 6}},
      {"10.11.19-MariaDB-0+deb12u1-log", Flavor::kMariaDb, {10, 11, 19}},
      {"11.4.2-MariaDB", Flavor::kMariaDb, {11, 4, 2}},
      {"5.5.5-10.6.16-MariaDB-1:10.6.16+maria~ubu2204", Flavor::kMariaDb, {10, 6, 16}},
      {"10.5.23-mariadb-log", Flavor::kMariaDb, {10, 5, 23}},
      {"8.0.36", Flavor::kMySql, {8, 0, 36}},
      {"8.0.36-0ubuntu0.22.04.1", Flavor::kMySql, {8, 0, 36}},
      {"8.4.0-log", Flavor::kMySql, {8, 4, 0}},
      {"8.0.35-27", Flavor::kMySql, {8, 0, 35}},
      {"  5.7.44\n", Flavor::kMySql, {5, 7, 44}},
      {"9.1", Flavor::kMySql, {9, 1, 0}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(DetectFlavor(c.text) == c.flavor);
    Result<Version> v = ParseVersion(c.text);
    REQUIRE(v.ok());
    CHECK(*v == c.version);
    Result<Dialect> d = DetectDialect(c.text);
    REQUIRE(d.ok());
    CHECK(*d == Dialect{c.flavor, c.version});
  }
}

TEST_CASE("ParseVersion rejects strings without a version") {
  for (const char* text : {"", "MariaDB", "10", "10.", ".11.6", "x10.11.6", "10.11.x6", "10.11.6.7",
                           "1234567890.1.1", "10-11-6"}) {
    INFO(text);
    Result<Version> v = ParseVersion(text);
    REQUIRE_FALSE(v.ok());
    CHECK(v.status().code() == Code::kInvalidArgument);
    CHECK_FALSE(DetectDialect(text).ok());
  }
}

TEST_CASE("Version orders by major, minor, patch") {
  CHECK(Version{8, 0, 22} < Version{8, 0, 23});
  CHECK(Version{8, 0, 99} < Version{8, 1, 0});
  CHECK(Version{10, 11, 6} > Version{8, 4, 0});
  CHECK(Version{8, 0, 23} >= Version{8, 0, 23});
  CHECK(Version{10, 11, 6}.ToString() == "10.11.6");
  CHECK(std::string(FlavorName(Flavor::kMariaDb)) == "mariadb");
  CHECK(std::string(FlavorName(Flavor::kMySql)) == "mysql");
}

}  // namespace
}  // namespace manage::mysql
