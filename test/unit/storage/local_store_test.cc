#include "storage/local_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "unit/storage/object_store_util.h"
#include "unit/sys/temp_dir.h"

namespace manage::storage {
namespace {

using sys::TempDir;

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("An object becomes visible only on Commit") {
  TempDir tmp;
  LocalStore store(tmp / "snapshots");
  CHECK(Names(store).empty());  // the directory does not exist yet
  Result<std::unique_ptr<ObjectWriter>> w = store.Create("b1");
  REQUIRE(w.ok());
  REQUIRE((*w)->Write("hello ").ok());
  REQUIRE((*w)->Write("world").ok());
  CHECK(Names(store).empty());
  CHECK(ReadAll(store, "b1").status().code() == Code::kNotFound);
  CHECK(FilesIn(tmp / "snapshots") == std::vector<std::string>{"b1.partial"});
  REQUIRE((*w)->Commit().ok());
  CHECK(FilesIn(tmp / "snapshots") == std::vector<std::string>{"b1"});
  Result<std::vector<ObjectInfo>> list = store.List("");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].name == "b1");
  CHECK((*list)[0].size == 11);
  auto age = std::chrono::system_clock::now() - (*list)[0].mtime;
  CHECK(age < std::chrono::minutes(5));
  CHECK(*ReadAll(store, "b1") == "hello world");
  CHECK((*w)->Write("more").code() == Code::kFailedPrecondition);
  CHECK((*w)->Commit().code() == Code::kFailedPrecondition);
}

TEST_CASE("Abort, or dropping an uncommitted writer, leaves nothing behind") {
  TempDir tmp;
  LocalStore store(tmp.path());
  {
    Result<std::unique_ptr<ObjectWriter>> w = store.Create("aborted");
    REQUIRE(w.ok());
    REQUIRE((*w)->Write("half").ok());
    (*w)->Abort();
    (*w)->Abort();
    CHECK((*w)->Commit().code() == Code::kFailedPrecondition);
  }
  {
    Result<std::unique_ptr<ObjectWriter>> w = store.Create("dropped");
    REQUIRE(w.ok());
    REQUIRE((*w)->Write("half").ok());
  }
  CHECK(FilesIn(tmp.path()).empty());
  CHECK(Names(store).empty());
}

TEST_CASE("Commit replaces an object of the same name") {
  TempDir tmp;
  LocalStore store(tmp.path());
  for (const char* content : {"old", "new"}) {
    Result<std::unique_ptr<ObjectWriter>> w = store.Create("same");
    REQUIRE(w.ok());
    REQUIRE((*w)->Write(content).ok());
    REQUIRE((*w)->Commit().ok());
  }
  CHECK(*ReadAll(store, "same") == "new");
}

TEST_CASE("Read streams large objects in chunks and stops on a sink error") {
  TempDir tmp;
  LocalStore store(tmp.path());
  std::string big(3 << 20, 'b');  // more than one 1 MiB read
  Result<std::unique_ptr<ObjectWriter>> w = store.Create("big");
  REQUIRE(w.ok());
  REQUIRE((*w)->Write(big).ok());
  REQUIRE((*w)->Commit().ok());
  int chunks = 0;
  Status st = store.Read("big", [&chunks](std::string_view) {
    ++chunks;
    return Status::Ok();
  });
  CHECK(st.ok());
  CHECK(chunks > 1);
  st = store.Read("big", [](std::string_view) { return Status::Aborted("stop"); });
  CHECK(st.code() == Code::kAborted);
}

TEST_CASE("List is sorted and skips partials, hidden files and directories") {
  TempDir tmp;
  LocalStore store(tmp.path());
  for (const char* name : {"c", "a", "b"}) {
    Result<std::unique_ptr<ObjectWriter>> w = store.Create(name);
    REQUIRE(w.ok());
    REQUIRE((*w)->Commit().ok());
  }
  std::ofstream(tmp / "x.partial") << "in progress";
  std::ofstream(tmp / ".hidden") << "h";
  std::filesystem::create_directory(tmp / "subdir");
  CHECK(Names(store) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("Remove deletes; missing objects are NotFound; bad names are rejected") {
  TempDir tmp;
  LocalStore store(tmp.path());
  Result<std::unique_ptr<ObjectWriter>> w = store.Create("gone");
  REQUIRE(w.ok());
  REQUIRE((*w)->Commit().ok());
  REQUIRE(store.Remove("gone").ok());
  CHECK(Names(store).empty());
  CHECK(store.Remove("gone").code() == Code::kNotFound);
  CHECK(ReadAll(store, "gone").status().code() == Code::kNotFound);
  for (const char* bad : {"../etc/passwd", "a/b", "..", "x.partial", ""}) {
    CAPTURE(bad);
    CHECK(store.Create(bad).status().code() == Code::kInvalidArgument);
    CHECK(ReadAll(store, bad).status().code() == Code::kInvalidArgument);
    CHECK(store.Remove(bad).code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace manage::storage

namespace manage::storage {
namespace {

TEST_CASE("Stat describes one committed object; List filters by prefix") {
  sys::TempDir tmp;
  LocalStore store(tmp.path());
  for (const char* name : {"mysql-backup-1", "mysql-backup-2", "orders-backup-1"}) {
    auto w = store.Create(name);
    REQUIRE(w.ok());
    REQUIRE((*w)->Write(name).ok());
    REQUIRE((*w)->Commit().ok());
  }
  auto pending = store.Create("mysql-backup-3");  // uncommitted: invisible
  REQUIRE(pending.ok());
  Result<ObjectInfo> info = store.Stat("mysql-backup-2");
  REQUIRE(info.ok());
  CHECK(info->name == "mysql-backup-2");
  CHECK(info->size == 14);
  CHECK(store.Stat("mysql-backup-3").status().code() == Code::kNotFound);
  CHECK(store.Stat("../etc").status().code() == Code::kInvalidArgument);
  Result<std::vector<ObjectInfo>> mysql = store.List("mysql-");
  REQUIRE(mysql.ok());
  REQUIRE(mysql->size() == 2);
  CHECK((*mysql)[0].name == "mysql-backup-1");
  CHECK((*mysql)[1].name == "mysql-backup-2");
  CHECK(store.List("none")->empty());
  CHECK(store.Location() == "local:" + tmp.path());
}

}  // namespace
}  // namespace manage::storage
