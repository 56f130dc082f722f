#include "archive/pitr.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "archive/events.h"
#include "archive/segment_io.h"
#include "archive/stage.h"
#include "fakes/binlog_maker.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_process.h"
#include "fakes/fake_spool.h"
#include "fakes/fake_store.h"
#include "storage/sha256.h"
#include "sys/fs.h"
#include "unit/sys/temp_dir.h"

namespace manage::archive {
namespace {

using testing::Join;
using testing::MakeFde;
using testing::MakeTransaction;

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The seqnos of the transactions in a binlog file.
std::vector<uint64_t> SeqnosIn(const std::string& file) {
  std::vector<uint64_t> out;
  EventSplitter split(true);
  GroupTracker t;
  REQUIRE(split
              .Feed(file,
                    [&](std::string_view e) {
                      auto step = t.Add(e);
                      REQUIRE(step.ok());
                      if (*step == GroupTracker::Step::kBegin) out.push_back(t.group().gtid.seqno);
                      return Status::Ok();
                    })
              .ok());
  return out;
}

// An archive in a fake store: epoch 1, tails of server 1's transactions
// first..last each (time 1000 + seqno), from the beginning.
struct Archive {
  storage::FakeStore store;
  std::vector<SegmentInfo> tails;

  void Tail(uint64_t first, uint64_t last, uint32_t server = 1, uint64_t epoch = 1,
            std::optional<MariaDbGtid> prev = std::nullopt) {
    MemorySpool spool;
    for (uint64_t s = first; s <= last; ++s) {
      REQUIRE(spool.Append(Join(MakeTransaction(s, server, static_cast<uint32_t>(1000 + s)))).ok());
    }
    SegmentInfo info;
    info.epoch = epoch;
    info.prev = prev ? *prev : (tails.empty() ? MariaDbGtid{0, 0, 0} : tails.back().last);
    info.first = {0, server, first};
    info.last = {0, server, last};
    info.time_min = static_cast<uint32_t>(1000 + first);
    info.time_max = static_cast<uint32_t>(1000 + last);
    info.transactions = last - first + 1;
    auto stored = UploadSegment(
        store, info, {}, {std::string(mysql::kBinlogMagic) + MakeFde(), &spool, 0, spool.size()});
    REQUIRE(stored.ok());
    tails.push_back(*stored);
  }
  ChainLink Link(size_t i) { return {tails[i], std::nullopt}; }
};

TEST_CASE("targets: a GTID, or a UTC time in the forms operators write") {
  CHECK(ParseTarget("0-1-5", true)->gtid == MariaDbGtid{0, 1, 5});
  CHECK_FALSE(ParseTarget("0-1-0", true).ok());
  CHECK_FALSE(ParseTarget("yesterday", true).ok());
  const int64_t t = 1764425000;  // 2025-11-29T14:03:20Z
  for (const char* text :
       {"2025-11-29T14:03:20Z", "2025-11-29 14:03:20", "2025-11-29T14:03:20",
        "2025-11-29T15:03:20+01:00", "2025-11-29T09:03:20-05:00", "@1764425000"}) {
    INFO(text);
    auto target = ParseTarget(text, false);
    REQUIRE(target.ok());
    CHECK(target->time == t);
  }
  for (const char* text : {"2025-11-29T14:03:20.5Z", "2025-13-01T00:00:00Z", "14:03", "@x",
                           "2025-11-29T14:03:20 UTC"}) {
    INFO(text);
    CHECK(ParseTarget(text, false).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("staging keeps what the rule keeps and checks the segment against its name") {
  sys::TempDir tmp;
  Archive a;
  a.Tail(1, 10);
  const std::string path = tmp.path() + "/s.bin";
  auto all = StageLink(a.store, a.Link(0), nullptr, {}, path);
  REQUIRE(all.ok());
  CHECK(SeqnosIn(ReadFileBytes(path)) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(all->transactions == 10);
  CHECK(all->events == 40);
  StageRule rule{MariaDbGtid{0, 1, 3}, Target{true, {0, 1, 8}, 0}};
  auto some = StageLink(a.store, a.Link(0), nullptr, rule, path);
  REQUIRE(some.ok());
  CHECK(SeqnosIn(ReadFileBytes(path)) == std::vector<uint64_t>{4, 5, 6, 7});
  CHECK(*some->cut == MariaDbGtid{0, 1, 8});
  auto by_time =
      StageLink(a.store, a.Link(0), nullptr, {std::nullopt, Target{false, {}, 1006}}, path);
  REQUIRE(by_time.ok());
  CHECK(SeqnosIn(ReadFileBytes(path)) == std::vector<uint64_t>{1, 2, 3, 4, 5});
  // A GTID the segment does not hold where the chain says: not this history.
  auto missing = StageLink(a.store, a.Link(0), nullptr, {MariaDbGtid{0, 2, 3}, std::nullopt}, path);
  CHECK(missing.status().code() == Code::kFailedPrecondition);
  CHECK_FALSE(sys::RealFileSystem().Exists(path));
  // A name that does not tell the truth about the content.
  ChainLink lying = a.Link(0);
  lying.segment.transactions = 9;
  CHECK(StageLink(a.store, lying, nullptr, {}, path).status().message().find("is corrupt") !=
        std::string::npos);
  // A chain that says the history goes on after a GTID the segment lacks.
  ChainLink cut_at_other = a.Link(0);
  cut_at_other.stop_after = MariaDbGtid{0, 2, 5};
  CHECK_FALSE(StageLink(a.store, cut_at_other, nullptr, {}, path).ok());
}

// A restore into a real temporary datadir with every program faked.
struct Restore {
  sys::TempDir tmp;
  sys::RealFileSystem fs;
  sys::FakeProcessRunner runner;
  sys::FakeClock clock;
  storage::FakeStore snapshots;
  Archive archive;
  std::vector<backup::BackupRecord> records;
  std::vector<std::vector<uint64_t>> replayed;  // per staged file given to mariadb-binlog

  void Snapshot(const std::string& id, const std::string& gtid) {
    const std::string bytes = "xbstream of " + id;
    snapshots.objects[id] = bytes;
    backup::BackupRecord r;
    r.id = id;
    r.gtid = gtid;
    r.sha256 = *storage::Sha256Hex(bytes);
    r.size = bytes.size();
    r.service = "mysql";
    records.push_back(r);
  }
  void ScriptServer(const std::string& position) {
    for (const char* reply : {"1\n", "", ""}) {
      runner.Script("mariadb", sys::FakeProcessRunner::Reply().Stdout(reply));
    }
    runner.Script("mariadb", sys::FakeProcessRunner::Reply().Stdout(position + "\n"));
    runner.Script("mariadb-binlog",
                  sys::FakeProcessRunner::Reply().Effect([this](const auto& call) {
                    for (size_t i = 2; i < call.cmd.argv.size(); ++i) {
                      replayed.push_back(SeqnosIn(ReadFileBytes(call.cmd.argv[i])));
                    }
                  }));
  }
  PointInTimeOptions Options(Target target) {
    PointInTimeOptions o;
    o.target = target;
    o.datadir = tmp.path() + "/data";
    o.work_dir = tmp.path() + "/data.pitr";
    o.clock = &clock;
    return o;
  }
  Result<PointInTimeResult> Run(Target target) {
    return RestoreToPoint(runner, fs, snapshots, archive.store, records, Options(target));
  }
  bool Ran(const std::string& program) {
    for (const auto& c : runner.calls()) {
      if (c.cmd.argv[0] == program) return true;
    }
    return false;
  }
};

TEST_CASE("a restore replays from the newest snapshot before the target up to the target") {
  Restore r;
  r.archive.Tail(1, 5);
  r.archive.Tail(6, 10);
  r.archive.Tail(11, 12);
  r.Snapshot("early", "0-1-3");
  r.Snapshot("late", "0-1-9");  // after the target: cannot be used
  r.ScriptServer("0-1-7");
  auto done = r.Run({true, {0, 1, 8}, 0});
  REQUIRE(done.ok());
  CHECK(done->snapshot_id == "early");
  CHECK(done->stopped_before == "0-1-8");
  CHECK(done->position == "0-1-7");
  CHECK(done->transactions == 4);
  CHECK(r.replayed == std::vector<std::vector<uint64_t>>{{4, 5}, {6, 7}});
  // The snapshot went to mbstream, the server started from its GTID state.
  CHECK(r.runner.calls()[0].cmd.argv[0] == "mbstream");
  CHECK(r.runner.calls()[0].stdin_data == "xbstream of early");
  bool seeded = false;
  for (const auto& c : r.runner.calls()) {
    for (const std::string& a : c.cmd.argv) {
      seeded = seeded || a.find("SET GLOBAL gtid_binlog_state = '0-1-3'") != std::string::npos;
    }
  }
  CHECK(seeded);
  CHECK_FALSE(r.fs.Exists(r.tmp.path() + "/data.pitr"));  // the work dir is gone
}

TEST_CASE("a restore to a time stops before the first transaction at or after it") {
  Restore r;
  r.archive.Tail(1, 5);
  r.archive.Tail(6, 10);
  r.Snapshot("s", "0-1-2");
  r.ScriptServer("0-1-6");
  auto done = r.Run({false, {}, 1007});
  REQUIRE(done.ok());
  CHECK(done->stopped_before == "0-1-7");
  CHECK(r.replayed == std::vector<std::vector<uint64_t>>{{3, 4, 5}, {6}});
}

TEST_CASE("a snapshot whose GTID is not on the archived history is passed over") {
  Restore r;
  r.archive.Tail(1, 5);
  r.archive.Tail(6, 10);
  r.Snapshot("good", "0-1-2");
  r.Snapshot("errant", "0-7-4");  // a demoted primary's, at a sequence number the chain has
  r.ScriptServer("0-1-7");
  auto done = r.Run({true, {0, 1, 8}, 0});
  REQUIRE(done.ok());
  CHECK(done->snapshot_id == "good");
}

TEST_CASE("a corrupt segment is refused before any program runs or the datadir is touched") {
  Restore r;
  r.archive.Tail(1, 5);
  r.archive.Tail(6, 10);
  r.Snapshot("s", "0-1-2");
  std::string& bytes = r.archive.store.objects[r.archive.tails[0].name];
  bytes[bytes.size() / 2] ^= 0x10;
  auto done = r.Run({true, {0, 1, 8}, 0});
  REQUIRE_FALSE(done.ok());
  CHECK(done.status().message().find("is corrupt") != std::string::npos);
  CHECK(r.runner.calls().empty());
  CHECK_FALSE(r.fs.Exists(r.tmp.path() + "/data"));
  CHECK_FALSE(r.fs.Exists(r.tmp.path() + "/data.pitr"));
}

TEST_CASE("a target outside the archive, or without a snapshot before it, says why") {
  Restore r;
  r.archive.Tail(1, 5);
  r.Snapshot("s", "0-1-4");
  auto after = r.Run({true, {0, 1, 9}, 0});
  CHECK(after.status().code() == Code::kNotFound);
  CHECK(after.status().message().find("0-1-5") != std::string::npos);
  auto before = r.Run({true, {0, 1, 3}, 0});
  CHECK(before.status().code() == Code::kNotFound);
  CHECK(before.status().message().find("no snapshot precedes") != std::string::npos);
  CHECK(r.runner.calls().empty());
}

TEST_CASE("a datadir that holds anything is refused") {
  Restore r;
  r.archive.Tail(1, 5);
  r.Snapshot("s", "0-1-1");
  REQUIRE(r.fs.MakeDirs(r.tmp.path() + "/data/mysql", 0755).ok());
  CHECK(r.Run({true, {0, 1, 3}, 0}).status().code() == Code::kFailedPrecondition);
  CHECK(r.fs.Exists(r.tmp.path() + "/data/mysql"));
}

}  // namespace
}  // namespace manage::archive
