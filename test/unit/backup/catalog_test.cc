#include "backup/catalog.h"

#include <catch2/catch.hpp>

#include "fakes/fake_store.h"

namespace manage::backup {
namespace {

using namespace std::chrono;

BackupRecord Record(const std::string& id, int hour) {
  BackupRecord r;
  r.id = id;
  r.time = system_clock::time_point(hours(hour));
  r.gtid = "0-1-" + std::to_string(hour);
  r.service = "mysql";
  return r;
}

TEST_CASE("The catalog is what the manifests say, newest first, with orphans and problems") {
  storage::FakeStore store;
  for (auto [id, hour] : {std::pair{"b-early", 1}, std::pair{"b-late", 9}, {"b-mid", 5}}) {
    store.objects[id] = "stream";
    REQUIRE(WriteManifest(store, Record(id, hour)).ok());
  }
  store.objects["b-orphan"] = "a crash before its manifest";
  store.objects["b-broken.json"] = "{not json";
  store.objects["b-broken"] = "stream";
  REQUIRE(WriteManifest(store, Record("b-gone", 3)).ok());  // its object was removed
  store.objects["b-other.json"] = SerializeBackupRecord(Record("b-else", 2));

  Result<Catalog> c = ReadCatalog(store);
  REQUIRE(c.ok());
  std::vector<std::string> ids;
  for (const BackupRecord& r : c->snapshots) ids.push_back(r.id);
  CHECK(ids == std::vector<std::string>{"b-late", "b-mid", "b-gone", "b-early"});
  CHECK(c->snapshots[0].gtid == "0-1-9");
  REQUIRE(c->orphans.size() == 2);
  CHECK(c->orphans[0].name == "b-broken");
  CHECK(c->orphans[1].name == "b-orphan");
  REQUIRE(c->problems.size() == 3);
  CHECK(c->problems[0].find("b-broken") != std::string::npos);
  CHECK(c->problems[1] == "snapshot b-gone: its object is missing");
  CHECK(c->problems[2].find("describes 'b-else'") != std::string::npos);
}

TEST_CASE("DeleteSnapshot removes the stream, then the manifest; missing parts are fine") {
  storage::FakeStore store;
  store.objects["b1"] = "stream";
  REQUIRE(WriteManifest(store, Record("b1", 1)).ok());
  REQUIRE(DeleteSnapshot(store, "b1").ok());
  CHECK(store.removed == std::vector<std::string>{"b1", "b1.json"});
  CHECK(store.objects.empty());
  CHECK(DeleteSnapshot(store, "b1").ok());
  store.objects["b2"] = "stream";
  store.remove_error = Status::Unavailable("HTTP 503");
  CHECK(DeleteSnapshot(store, "b2").code() == Code::kUnavailable);
}

TEST_CASE("A failing listing fails the catalog") {
  storage::FakeStore store;
  store.list_error = Status::FailedPrecondition("bucket 'backups' does not exist");
  CHECK(ReadCatalog(store).status().code() == Code::kFailedPrecondition);
}

}  // namespace
}  // namespace manage::backup
