// manage backup list|verify|restore|delete against the fake store and Consul.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include "backup/catalog.h"
#include "backup/crypt.h"
#include "backup/pipeline.h"
#include "unit/hooks/hook_fixture.h"

namespace manage::backup {
// test/unit/backup/xbstream_maker.cc
std::string Xbstream(const std::vector<std::pair<std::string, std::string>>& files, size_t chunk);
}  // namespace manage::backup

namespace manage::hooks {
namespace {

using namespace std::chrono_literals;
using Reply = sys::FakeProcessRunner::Reply;

struct BackupFixture : HookFixture {
  // Stores snapshot `id`, `hours_ago` old, encoded as the snapshot hook does,
  // with its manifest; returns its record.
  backup::BackupRecord Store(const std::string& id, int hours_ago, const std::string& raw,
                             const backup::BackupKey* key = nullptr) {
    std::string stored;
    auto sink = backup::SinkTo([&stored](std::string_view chunk) {
      stored.append(chunk);
      return Status::Ok();
    });
    auto encoder = backup::Encoder::Create({3, 0, key}, sink.get());
    REQUIRE(encoder.ok());
    REQUIRE((*encoder)->input().Write(raw).ok());
    REQUIRE((*encoder)->input().Close().ok());
    backup::BackupRecord r;
    r.id = id;
    r.time = clock.Now() - std::chrono::hours(hours_ago);
    r.gtid = "0-1-" + std::to_string(100 - hours_ago);
    r.node = kNode;
    r.service = "mysql";
    (*encoder)->Describe(&r);
    store.objects[id] = stored;
    REQUIRE(backup::WriteManifest(store, r).ok());
    return r;
  }
  void RecordNewest(const backup::BackupRecord& r) {
    REQUIRE(consul.Put(config.keys.last_backup_key, backup::SerializeBackupRecord(r)).ok());
  }
  const std::string kXb = backup::Xbstream({{"ibdata1", std::string(5000, 'i')}, {"x", "y"}}, 999);
};

TEST_CASE("backup list shows every snapshot newest first, the recorded one marked") {
  BackupFixture f;
  f.Store("mysql-backup-old", 30, f.kXb);
  f.RecordNewest(f.Store("mysql-backup-new", 2, f.kXb));
  f.store.objects["mysql-backup-crashed"] = "no manifest";
  REQUIRE(Backup(f.deps, {"list"}).ok());
  const size_t newer = f.printed.find("mysql-backup-new");
  const size_t older = f.printed.find("mysql-backup-old");
  CHECK(newer < older);
  CHECK(f.printed.find("<- newest (LAST_BACKUP_KEY)") > newer);
  CHECK(f.printed.find("<- newest (LAST_BACKUP_KEY)") < older);
  CHECK(
      f.printed.find("orphan object (no manifest; a snapshot interrupted before it was recorded): "
                     "mysql-backup-crashed") != std::string::npos);
  CHECK(f.printed.find("zstd") != std::string::npos);

  f.printed.clear();
  REQUIRE(Backup(f.deps, {"list", "--json"}).ok());
  rapidjson::Document doc;
  doc.Parse(f.printed.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc["snapshots"].Size() == 2);
  CHECK(std::string(doc["snapshots"][0]["id"].GetString()) == "mysql-backup-new");
  CHECK(doc["snapshots"][0]["newest"].GetBool());
  CHECK(doc["snapshots"][0]["raw_size"].GetUint64() == f.kXb.size());
  CHECK(std::string(doc["snapshots"][1]["compression"].GetString()) == "zstd");
  CHECK(std::string(doc["orphans"][0].GetString()) == "mysql-backup-crashed");
  CHECK(std::string(doc["store"].GetString()) == "fake:");
}

// A segment name for the fake archive (list reads names only).
std::string SegmentName(const std::string& prev, const std::string& first, const std::string& last,
                        uint32_t tmin, uint32_t tmax, uint64_t epoch = 1) {
  return "000000000" + std::to_string(epoch) + "_t_" + prev + "_" + first + "_" + last + "_" +
         std::to_string(tmin) + "_" + std::to_string(tmax) + "_1_n_" + std::string(64, 'a');
}

TEST_CASE("backup list shows what the binlog archive can restore, and its gaps") {
  BackupFixture f;
  f.RecordNewest(f.Store("mysql-backup-a", 30, f.kXb));  // GTID 0-1-70
  // Archived: 0-1-1..0-1-80, then nothing until 0-1-90, then 0-1-91..0-1-99.
  for (const std::string& name :
       {SegmentName("0-0-0", "0-1-1", "0-1-80", 1764400000, 1764410000),
        SegmentName("0-1-90", "0-1-91", "0-1-99", 1764420000, 1764425000)}) {
    f.archive.objects[name] = "";
  }
  REQUIRE(Backup(f.deps, {"list"}).ok());
  CHECK(f.printed.find("recoverable: 2025-12-30T18:00:00Z .. 2025-11-29T09:53:20Z") !=
        std::string::npos);
  CHECK(f.printed.find("(GTID 0-1-70 .. 0-1-80; from snapshot mysql-backup-a, 1 snapshot)") !=
        std::string::npos);
  CHECK(f.printed.find("gap: after 0-1-80 (2025-11-29T09:53:20Z) .. through 0-1-90") !=
        std::string::npos);
  CHECK(f.archive_services == std::vector<std::string>{"mysql"});
  f.printed.clear();
  REQUIRE(Backup(f.deps, {"list", "--json"}).ok());
  rapidjson::Document doc;
  doc.Parse(f.printed.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["archive"]["windows"].Size() == 1);
  CHECK(std::string(doc["archive"]["windows"][0]["to_gtid"].GetString()) == "0-1-80");
  CHECK(std::string(doc["archive"]["gaps"][0]["before_gtid"].GetString()) == "0-1-90");
  CHECK(std::string(doc["archive"]["head_gtid"].GetString()) == "0-1-99");
}

TEST_CASE("backup list includes a recorded snapshot that has no manifest (taken before them)") {
  BackupFixture f;
  backup::BackupRecord legacy;
  legacy.id = "mysql-backup-2025";
  legacy.time = f.clock.Now() - 100h;
  f.store.objects[legacy.id] = f.kXb;
  f.RecordNewest(legacy);
  REQUIRE(Backup(f.deps, {"list"}).ok());
  CHECK(f.printed.find("mysql-backup-2025") != std::string::npos);
  CHECK(f.printed.find("(no manifest)") != std::string::npos);
  CHECK(f.printed.find("orphan") == std::string::npos);
}

TEST_CASE("backup verify reads the snapshot back whole and checks every layer") {
  BackupFixture f;
  const backup::BackupKey key = *backup::ParseBackupKey(std::string(64, '9'));
  f.config.snapshot.encryption_key = std::string(64, '9');
  auto good = f.Store("mysql-backup-good", 1, f.kXb, &key);
  REQUIRE(Backup(f.deps, {"verify", good.id}).ok());
  CHECK(f.printed.find("ok: mysql-backup-good") == 0);
  CHECK(f.printed.find("2 files") != std::string::npos);

  struct Row {
    std::string name;
    std::function<void(BackupFixture&)> spoil;
    std::string want;
  };
  const Row rows[] = {
      {"a flipped stored byte",
       [](BackupFixture& x) { x.store.objects["mysql-backup-good"][40] ^= 1; }, "tampered"},
      {"the stream is not xbstream",
       [&key](BackupFixture& x) { x.Store("mysql-backup-good", 1, "not an xbstream", &key); },
       "not a valid xbstream"},
      {"no key configured", [](BackupFixture& x) { x.config.snapshot.encryption_key.clear(); },
       "SNAPSHOT_ENCRYPTION_KEY"},
      {"unknown id", [](BackupFixture& x) { x.store.objects.clear(); }, "no snapshot"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    BackupFixture g;
    g.config.snapshot.encryption_key = std::string(64, '9');
    g.Store("mysql-backup-good", 1, g.kXb, &key);
    row.spoil(g);
    Status s = Backup(g.deps, {"verify", "mysql-backup-good"});
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(row.want) != std::string::npos);
    CHECK(g.printed.empty());
  }
}

TEST_CASE("backup restore unpacks into the given directory and prints the position") {
  BackupFixture f;
  f.Store("mysql-backup-x", 1, f.kXb);
  f.runner.Script("mbstream", Reply().Effect([&f](const sys::FakeProcessRunner::Call& call) {
    f.fs.AddFile(call.cmd.argv.at(3) + "/ibdata1", "innodb");
  }));
  f.runner.Script("mariabackup", Reply().Effect([&f](const sys::FakeProcessRunner::Call& call) {
    std::string dir = call.cmd.argv.at(2).substr(std::string("--target-dir=").size());
    f.fs.AddFile(dir + "/xtrabackup_binlog_info", "mysql-bin.000009\t4\t0-1-99\n");
  }));
  f.fs.AddDir("/srv");
  REQUIRE(Backup(f.deps, {"restore", "mysql-backup-x", "--datadir", "/srv/copy"}).ok());
  CHECK(f.runner.calls().at(0).stdin_data == f.kXb);
  CHECK(f.fs.Exists("/srv/copy/ibdata1"));
  CHECK(f.printed ==
        "restored mysql-backup-x into /srv/copy: binlog mysql-bin.000009 position 4, "
        "gtid 0-1-99\n");
}

TEST_CASE("backup delete removes an older snapshot and refuses the newest") {
  BackupFixture f;
  f.Store("mysql-backup-old", 30, f.kXb);
  auto newest = f.Store("mysql-backup-new", 2, f.kXb);
  f.RecordNewest(newest);
  Status refused = Backup(f.deps, {"delete", "mysql-backup-new"});
  CHECK(refused.code() == Code::kFailedPrecondition);
  CHECK(refused.message().find("newest") != std::string::npos);
  REQUIRE(Backup(f.deps, {"delete", "mysql-backup-old"}).ok());
  CHECK(f.store.objects.count("mysql-backup-old") == 0);
  CHECK(f.store.objects.count("mysql-backup-old.json") == 0);
  CHECK(f.store.objects.count("mysql-backup-new") == 1);
  CHECK(Backup(f.deps, {"delete", "mysql-backup-old"}).code() == Code::kNotFound);
}

TEST_CASE("backup refuses bad arguments before opening the store") {
  for (const Args& args :
       std::vector<Args>{{},
                         {"lsit"},
                         {"verify"},
                         {"verify", "a", "b"},
                         {"restore", "a"},
                         {"list", "--datadir", "/x"},
                         {"delete", "a", "--json"},
                         {"list", "--force"},
                         {"restore", "--to-time", "@1"},
                         {"restore", "a", "--to-gtid", "0-1-1", "--datadir", "/d"},
                         {"restore", "--to-time", "@1", "--to-gtid", "0-1-1", "--datadir", "/d"},
                         {"list", "--to-time", "@1"},
                         {"restore", "a", "--from", "x", "--datadir", "/d"}}) {
    BackupFixture f;
    f.store_unavailable = Status::Internal("the store must not be opened");
    CHECK(Backup(f.deps, args).code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace manage::hooks
