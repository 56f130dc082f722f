#include "sys/fs.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "unit/sys/temp_dir.h"

namespace manage::sys {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void Touch(const std::string& path, const std::string& data = "") { std::ofstream(path) << data; }

TEST_CASE("WriteFileAtomic writes, replaces and sets the mode exactly") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  std::string path = dir / "my.cnf";
  mode_t old_umask = ::umask(0077);
  REQUIRE(fs.WriteFileAtomic(path, "first", 0644).ok());
  ::umask(old_umask);
  CHECK(ModeOf(path) == 0644);
  REQUIRE(fs.WriteFileAtomic(path, "second\n", 0600).ok());
  CHECK(ModeOf(path) == 0600);
  Result<std::string> back = fs.ReadFile(path);
  REQUIRE(back.ok());
  CHECK(*back == "second\n");
  Result<std::vector<std::string>> names = fs.ListDir(dir.path());
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"my.cnf"});  // no temporary left behind
}

TEST_CASE("ReplaceFile replaces whole, with the mode, and leaves no temporary behind") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  std::string path = dir / "lease";
  REQUIRE(fs.ReplaceFile(path, "first", 0600).ok());
  REQUIRE(fs.ReplaceFile(path, "second", 0600).ok());
  CHECK(*fs.ReadFile(path) == "second");
  CHECK(ModeOf(path) == 0600);
  auto names = fs.ListDir(dir.path());
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"lease"});
  CHECK(fs.ReplaceFile(dir / "missing/f", "x").code() == Code::kNotFound);
}

TEST_CASE("WriteFileAtomic and ReadFile report missing paths as NotFound") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  CHECK(fs.WriteFileAtomic(dir / "no/such/file", "x").code() == Code::kNotFound);
  CHECK(fs.ReadFile(dir / "missing").status().code() == Code::kNotFound);
  CHECK(fs.ReadFile(dir.path()).status().code() == Code::kFailedPrecondition);
}

TEST_CASE("MakeDirs creates parents and accepts existing directories") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  REQUIRE(fs.MakeDirs(dir / "a/b/c", 0750).ok());
  CHECK(fs.IsDirectory(dir / "a/b/c"));
  CHECK(fs.MakeDirs(dir / "a/b").ok());
  Touch(dir / "file");
  CHECK(fs.MakeDirs(dir / "file").code() == Code::kFailedPrecondition);
  CHECK(fs.MakeDirs(dir / "file/sub").code() == Code::kFailedPrecondition);
}

TEST_CASE("Exists, IsDirectory, Rename and RemoveFile") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  Touch(dir / "a", "data");
  CHECK(fs.Exists(dir / "a"));
  CHECK_FALSE(fs.IsDirectory(dir / "a"));
  CHECK(fs.IsDirectory(dir.path()));
  CHECK_FALSE(fs.Exists(dir / "b"));
  REQUIRE(fs.Rename(dir / "a", dir / "b").ok());
  CHECK_FALSE(fs.Exists(dir / "a"));
  CHECK(fs.Rename(dir / "a", dir / "c").code() == Code::kNotFound);
  REQUIRE(fs.RemoveFile(dir / "b").ok());
  CHECK_FALSE(fs.Exists(dir / "b"));
  CHECK(fs.RemoveFile(dir / "b").ok());
}

TEST_CASE("ListDir lists names sorted") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  for (const char* name : {"zeta", "alpha", ".hidden"}) Touch(dir / name);
  REQUIRE(fs.MakeDirs(dir / "mysql").ok());
  Result<std::vector<std::string>> names = fs.ListDir(dir.path());
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{".hidden", "alpha", "mysql", "zeta"});
  CHECK(fs.ListDir(dir / "missing").status().code() == Code::kNotFound);
}

TEST_CASE("RemoveAll removes a tree without following symlinks") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  REQUIRE(fs.MakeDirs(dir / "keep").ok());
  Touch(dir / "keep/precious", "x");
  REQUIRE(fs.MakeDirs(dir / "tree/a/b").ok());
  Touch(dir / "tree/a/b/f1");
  Touch(dir / "tree/f2");
  std::filesystem::create_directory_symlink(dir / "keep", dir / "tree/a/link");
  REQUIRE(fs.RemoveAll(dir / "tree").ok());
  CHECK_FALSE(fs.Exists(dir / "tree"));
  CHECK(fs.Exists(dir / "keep/precious"));
  CHECK(fs.RemoveAll(dir / "tree").ok());
  Touch(dir / "single");
  CHECK(fs.RemoveAll(dir / "single").ok());
  CHECK_FALSE(fs.Exists(dir / "single"));
}

TEST_CASE("ChownRecursive changes owners below the path") {
  TempDir dir;
  RealFileSystem real;
  FileSystem& fs = real;
  REQUIRE(fs.MakeDirs(dir / "data/mysql").ok());
  Touch(dir / "data/mysql/user.frm");
  Touch(dir / "outside");
  std::filesystem::create_symlink(dir / "outside", dir / "data/link");
  CHECK(fs.ChownRecursive(dir / "data", "manage-no-such-user").code() == Code::kNotFound);

  bool root = ::geteuid() == 0;
  passwd* target = ::getpwnam(root ? "nobody" : "");
  if (!root || target == nullptr) target = ::getpwuid(::geteuid());
  REQUIRE(target != nullptr);
  std::string user = target->pw_name;
  uid_t uid = target->pw_uid;
  REQUIRE(fs.ChownRecursive(dir / "data", user).ok());
  for (const char* p : {"data", "data/mysql", "data/mysql/user.frm", "data/link"}) {
    struct stat st {};
    REQUIRE(::lstat((dir / p).c_str(), &st) == 0);
    CHECK(st.st_uid == uid);
  }
  struct stat out {};
  REQUIRE(::lstat((dir / "outside").c_str(), &out) == 0);
  CHECK(out.st_uid == ::geteuid());  // the symlink's target is not touched
}

}  // namespace
}  // namespace manage::sys
