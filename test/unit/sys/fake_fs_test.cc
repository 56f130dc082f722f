#include "fakes/fake_fs.h"

#include <catch2/catch.hpp>

namespace manage::sys {
namespace {

TEST_CASE("FakeFileSystem behaves like a small filesystem") {
  FakeFileSystem fs;
  CHECK(fs.WriteFileAtomic("/etc/my.cnf", "x").code() == Code::kNotFound);
  REQUIRE(fs.MakeDirs("/etc/mysql", 0700).ok());
  REQUIRE(fs.WriteFileAtomic("/etc/mysql/my.cnf", "x", 0600).ok());
  CHECK(fs.Find("/etc/mysql/my.cnf")->mode == 0600);
  CHECK(fs.Find("/etc/mysql")->mode == 0700);
  CHECK(*fs.ReadFile("/etc/mysql/my.cnf") == "x");
  CHECK(fs.ReadFile("/nope").status().code() == Code::kNotFound);
  CHECK(fs.MakeDirs("/etc/mysql/my.cnf/sub").code() == Code::kFailedPrecondition);

  fs.AddFile("/data/a/b/file", "1");
  fs.AddFile("/data/top", "2");
  CHECK(*fs.ListDir("/data") == std::vector<std::string>{"a", "top"});
  REQUIRE(fs.Rename("/data/a", "/moved").ok());
  CHECK(fs.Exists("/moved/b/file"));
  CHECK_FALSE(fs.Exists("/data/a/b"));
  fs.AddFile("/full/x", "");
  CHECK(fs.Rename("/moved", "/full").code() == Code::kFailedPrecondition);

  CHECK(fs.ChownRecursive("/moved", "nobody-here").code() == Code::kNotFound);
  REQUIRE(fs.ChownRecursive("/moved", "mysql").ok());
  CHECK(fs.Find("/moved/b/file")->owner == "mysql");

  CHECK(fs.RemoveFile("/moved").code() == Code::kFailedPrecondition);
  REQUIRE(fs.RemoveAll("/moved").ok());
  CHECK_FALSE(fs.Exists("/moved/b"));
  CHECK(fs.RemoveAll("/moved").ok());
  CHECK(fs.RemoveFile("/gone").ok());
}

TEST_CASE("FakeFileSystem injects failures and records calls") {
  FakeFileSystem fs;
  fs.AddDir("/d");
  fs.FailOn("WriteFileAtomic", "/d/f", Status::Unavailable("disk full"));
  CHECK(fs.WriteFileAtomic("/d/f", "x").code() == Code::kUnavailable);
  CHECK(fs.WriteFileAtomic("/d/g", "x").ok());
  fs.FailOn("Rename", "", Status::Internal("broken"));
  CHECK(fs.Rename("/d/g", "/d/h").code() == Code::kInternal);
  fs.ClearFailures();
  CHECK(fs.Rename("/d/g", "/d/h").ok());
  CHECK(fs.calls() == std::vector<std::string>{"WriteFileAtomic /d/f", "WriteFileAtomic /d/g",
                                               "Rename /d/g /d/h", "Rename /d/g /d/h"});
}

}  // namespace
}  // namespace manage::sys
