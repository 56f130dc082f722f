#include "archive/transaction_log.h"

#include <catch2/catch.hpp>

#include "archive/segment_io.h"
#include "backup/crypt.h"
#include "fakes/binlog_maker.h"
#include "fakes/fake_spool.h"
#include "fakes/fake_store.h"

namespace manage::archive {
namespace {

using testing::Join;
using testing::MakeDdl;
using testing::MakeFde;
using testing::MakeTransaction;

constexpr char kKeyHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TransactionLog::SpoolFactory Spools(std::vector<MemorySpool*>* made = nullptr) {
  return [made]() -> Result<std::unique_ptr<Spool>> {
    auto s = std::make_unique<MemorySpool>();
    if (made) made->push_back(s.get());
    return std::unique_ptr<Spool>(std::move(s));
  };
}

TEST_CASE("a binlog splits into the same events whatever the chunks") {
  const std::vector<std::string> events = {MakeFde(), MakeTransaction(1, 1, 100)[0],
                                           MakeTransaction(1, 1, 100)[3]};
  const std::string file = std::string(mysql::kBinlogMagic) + Join(events);
  for (size_t chunk : {1, 3, 7, 1000}) {
    EventSplitter splitter(true);
    std::vector<std::string> got;
    for (size_t at = 0; at < file.size(); at += chunk) {
      REQUIRE(splitter
                  .Feed(std::string_view(file).substr(at, chunk),
                        [&](std::string_view e) {
                          got.emplace_back(e);
                          return Status::Ok();
                        })
                  .ok());
    }
    CHECK(splitter.Finish().ok());
    CHECK(got == events);
  }
  EventSplitter cut(true);
  REQUIRE(cut.Feed(file.substr(0, file.size() - 3), [](std::string_view) { return Status::Ok(); })
              .ok());
  CHECK(cut.Finish().code() == Code::kInternal);
  EventSplitter not_binlog(true);
  CHECK_FALSE(not_binlog.Feed("PK\x03\x04", [](std::string_view) { return Status::Ok(); }).ok());
}

TEST_CASE("groups are tracked by the server's rule and every event's CRC-32 is checked") {
  GroupTracker t;
  CHECK(t.Add(MakeTransaction(1, 1, 1)[0]).status().code() == Code::kInternal);  // no format yet
  REQUIRE(*t.Add(MakeFde()) == GroupTracker::Step::kFormat);
  auto txn = MakeTransaction(5, 2, 100);
  CHECK(*t.Add(txn[0]) == GroupTracker::Step::kBegin);
  CHECK(t.group().gtid == mysql::MariaDbGtid{0, 2, 5});
  CHECK(*t.Add(txn[1]) == GroupTracker::Step::kInside);
  std::string bad = txn[2];
  bad[25] ^= 4;
  CHECK(t.Add(bad).status().message().find("CRC-32") != std::string::npos);
  CHECK(*t.Add(txn[2]) == GroupTracker::Step::kInside);
  CHECK(t.Add(MakeTransaction(6, 2, 100)[0]).status().code() == Code::kInternal);  // unended
  CHECK(*t.Add(txn[3]) == GroupTracker::Step::kEnd);
  auto ddl = MakeDdl(6, 2, 101);
  CHECK(*t.Add(ddl[0]) == GroupTracker::Step::kBegin);
  CHECK(*t.Add(ddl[1]) == GroupTracker::Step::kEnd);
}

TEST_CASE("a transaction log keeps its domain's transactions and drops the rest") {
  std::vector<MemorySpool*> spools;
  TransactionLog log(Spools(&spools), 0);
  CHECK(*log.Add(MakeFde()) == TransactionLog::Added::kNothing);
  REQUIRE(spools.size() == 1);
  for (const std::string& e : MakeTransaction(1, 1, 100)) {
    auto added = log.Add(e);
    REQUIRE(added.ok());
    if (e == MakeTransaction(1, 1, 100).back()) CHECK(*added == TransactionLog::Added::kComplete);
  }
  const uint64_t one = log.complete_end();
  CHECK(one == Join(MakeTransaction(1, 1, 100)).size());
  TransactionLog::Added last{};
  for (const std::string& e : MakeTransaction(1, 1, 100, 7)) last = *log.Add(e);
  CHECK(last == TransactionLog::Added::kForeign);
  CHECK(log.complete_end() == one);
  // A transaction half received stays when the complete ones are dropped.
  auto txn = MakeTransaction(2, 1, 101);
  (void)*log.Add(txn[0]);
  (void)*log.Add(txn[1]);
  REQUIRE(log.DropComplete().ok());
  CHECK(log.complete_end() == 0);
  CHECK(spools[0]->data() == txn[0] + txn[1]);
  (void)*log.Add(txn[2]);
  CHECK(*log.Add(txn[3]) == TransactionLog::Added::kComplete);
  CHECK(log.group_start() == 0);
  // The same layout again (a new binlog file) changes nothing; another one does.
  CHECK(*log.Add(MakeFde(1800000000)) == TransactionLog::Added::kNothing);
  CHECK(*log.Add(MakeFde(1800000000, true, "11.4.2-MariaDB")) == TransactionLog::Added::kNewFormat);
  REQUIRE(log.Restart().ok());
  CHECK(spools.size() == 2);
  CHECK(log.Content(0).header ==
        std::string(mysql::kBinlogMagic) + MakeFde(1800000000, true, "11.4.2-MariaDB"));
}

TEST_CASE("a segment goes through zstd and encryption and reads back verified") {
  storage::FakeStore store;
  auto key = backup::ParseBackupKey(kKeyHex);
  REQUIRE(key.ok());
  MemorySpool spool;
  const std::string events = Join(MakeTransaction(1, 1, 100)) + Join(MakeTransaction(2, 1, 101));
  REQUIRE(spool.Append(events).ok());
  SegmentInfo info;
  info.epoch = 1;
  info.prev = {0, 0, 0};
  info.first = {0, 1, 1};
  info.last = {0, 1, 2};
  info.time_min = 100;
  info.time_max = 101;
  info.transactions = 2;
  const std::string header = std::string(mysql::kBinlogMagic) + MakeFde();
  auto stored = UploadSegment(store, info, {3, 0, &*key}, {header, &spool, 0, spool.size()});
  REQUIRE(stored.ok());
  CHECK(stored->zstd);
  CHECK(stored->key_id == key->id);
  REQUIRE(store.objects.count(stored->name));
  CHECK(store.objects[stored->name].find("BEGIN") == std::string::npos);  // encrypted
  auto back = ParseSegmentName(stored->name);
  REQUIRE(back.ok());
  std::string read;
  REQUIRE(ReadSegment(store, *back, &*key, [&](std::string_view e) {
            read += e;
            return Status::Ok();
          }).ok());
  CHECK(read == MakeFde() + events);
  // Without the key, or another one: refused before anything is read.
  CHECK(ReadSegment(store, *back, nullptr, [](std::string_view) { return Status::Ok(); }).code() ==
        Code::kFailedPrecondition);
  // A changed byte anywhere is caught.
  std::string& bytes = store.objects[stored->name];
  bytes[bytes.size() / 2] ^= 1;
  Status corrupt = ReadSegment(store, *back, &*key, [](std::string_view) { return Status::Ok(); });
  CHECK(corrupt.code() == Code::kInternal);
  CHECK(corrupt.message().find("is corrupt") != std::string::npos);
  // Stored as is, the checksum in the name catches it.
  auto plain = UploadSegment(store, info, {0, 0, nullptr}, {header, &spool, 0, spool.size()});
  REQUIRE(plain.ok());
  store.objects[plain->name][40] ^= 1;
  Status mismatch = ReadSegment(store, *ParseSegmentName(plain->name), nullptr,
                                [](std::string_view) { return Status::Ok(); });
  CHECK(mismatch.message().find("checksum mismatch") != std::string::npos);
}

TEST_CASE("an upload that fails leaves nothing") {
  storage::FakeStore store;
  store.write_error = Status::Unavailable("store down");
  MemorySpool spool;
  REQUIRE(spool.Append(Join(MakeTransaction(1, 1, 1))).ok());
  SegmentInfo info;
  info.first = info.last = {0, 1, 1};
  info.transactions = 1;
  CHECK_FALSE(UploadSegment(store, info, {}, {"h", &spool, 0, spool.size()}).ok());
  CHECK(store.objects.empty());
  CHECK(store.aborts == 1);
}

}  // namespace
}  // namespace manage::archive
