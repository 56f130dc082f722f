#include "archive/archiver.h"

#include <catch2/catch.hpp>

#include "archive/archive_state.h"
#include "archive/fill.h"
#include "archive/segment_io.h"
#include "fakes/binlog_maker.h"
#include "fakes/fake_binlog.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_consul.h"
#include "fakes/fake_spool.h"
#include "fakes/fake_store.h"

namespace manage::archive {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::MakeTransaction;

constexpr char kArchiveKey[] = "mysql-binlog-archive";
constexpr char kPrimaryKey[] = "mysql-primary";

// One node holding PRIMARY_KEY, its binlog, the store and a clock that moves
// a second at each heartbeat (the dump's idle wait).
struct Fixture {
  sys::FakeClock clock;
  consul::FakeConsul consul{clock, "node1"};
  storage::FakeStore store;
  mysql::FakeBinlogServer server;
  mysql::FakeBinlogDumper dumper{&server};
  std::atomic<bool> stop{false};
  std::vector<std::string> logs;
  std::vector<std::pair<MariaDbGtid, MariaDbGtid>> gaps;
  std::string session;
  // Runs at each heartbeat, after the clock moved; stops the term when it returns true.
  std::function<bool(int heartbeat)> on_heartbeat;
  int heartbeats = 0;

  Fixture() {
    consul::SessionSpec spec{"primary", seconds(0), "release", seconds(0),
                             std::vector<std::string>{}};
    session = *consul.CreateSession(spec);
    REQUIRE(*consul.Acquire(kPrimaryKey, session, "mysql-n1"));
    server.on_idle = [this] {
      clock.Advance(milliseconds(1000));
      ++heartbeats;
      if (on_heartbeat && on_heartbeat(heartbeats)) stop = true;
    };
  }

  void Write(uint64_t first, uint64_t last, uint32_t server_id = 1) {
    for (uint64_t s = first; s <= last; ++s) {
      server.Add(MakeTransaction(s, server_id, static_cast<uint32_t>(1700000000 + s)));
    }
  }

  ArchiverSettings Settings() {
    ArchiverSettings s;
    s.node = "mysql-n1";
    s.primary_key = kPrimaryKey;
    s.archive_key = kArchiveKey;
    s.rpo = seconds(4);
    s.seal_age = seconds(3600);
    s.dump.dump_server_id = 0x80000001;
    s.probe_server_id = 0x80000000;
    return s;
  }

  ArchiverEnv Env() {
    ArchiverEnv e;
    e.consul = &consul;
    e.store = &store;
    e.dumper = &dumper;
    e.clock = &clock;
    e.log =
        Logger([this](const std::string& line) { logs.push_back(line); }, LogLevel::kDebug, false);
    e.new_spool = []() -> Result<std::unique_ptr<Spool>> {
      return std::unique_ptr<Spool>(new MemorySpool());
    };
    e.oldest_state = [this]() -> Result<std::string> { return server.OldestState(); };
    e.domain_id = []() -> Result<uint32_t> { return 0u; };
    e.on_gap = [this](const MariaDbGtid& a, const MariaDbGtid& b) { gaps.push_back({a, b}); };
    e.stop = &stop;
    return e;
  }

  Status Term(ArchiverSettings s) {
    stop = false;
    heartbeats = 0;
    Archiver archiver(std::move(s), Env());
    Status st = archiver.RunTerm(session);
    last_stats = archiver.stats();
    return st;
  }
  Status Term() { return Term(Settings()); }
  TermStats last_stats;

  std::vector<SegmentInfo> Segments(char kind = 0) {
    std::vector<SegmentInfo> out;
    for (const auto& [name, data] : store.objects) {
      auto s = ParseSegmentName(name);
      REQUIRE(s.ok());
      if (kind == 0 || static_cast<char>(s->kind) == kind) out.push_back(*s);
    }
    return out;
  }
  ArchiveState Head() {
    auto kv = consul.Get(HeadKey(kArchiveKey));
    REQUIRE(kv.ok());
    return *ParseArchiveState(kv->value);
  }
  // The seqnos of the transactions in `s`, read back verified.
  std::vector<uint64_t> Seqnos(const SegmentInfo& s) {
    std::vector<uint64_t> out;
    GroupTracker t;
    REQUIRE(ReadSegment(store, s, nullptr, [&](std::string_view e) {
              auto step = t.Add(e);
              if (!step.ok()) return step.status();
              if (*step == GroupTracker::Step::kBegin) out.push_back(t.group().gtid.seqno);
              return Status::Ok();
            }).ok());
    return out;
  }
  bool Logged(std::string_view text) const {
    for (const std::string& l : logs) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_CASE("a first term marks its epoch, ships tails within the RPO and publishes each") {
  Fixture f;
  f.Write(1, 3);
  std::optional<int> shipped_at;
  f.on_heartbeat = [&](int beat) {
    if (!shipped_at && !f.Segments('t').empty()) shipped_at = beat;
    if (beat == 6) f.Write(4, 5);
    return beat == 14;
  };
  REQUIRE(f.Term().ok());
  CHECK(f.last_stats.epoch == 1);
  REQUIRE(f.Segments('m').size() == 1);
  CHECK(IsBeginning(f.Segments('m')[0].prev));
  // The first three arrived at once; their tail left once they had waited the
  // RPO less a margin for the upload (a second at least): at 3 s, seen at the
  // next heartbeat. Not before, not later.
  REQUIRE(shipped_at);
  CHECK(*shipped_at == 4);
  auto tails = f.Segments('t');
  REQUIRE(tails.size() == 2);
  CHECK(f.Seqnos(tails[0]) == std::vector<uint64_t>{1, 2, 3});
  CHECK(IsBeginning(tails[0].prev));
  CHECK(f.Seqnos(tails[1]) == std::vector<uint64_t>{4, 5});
  CHECK(tails[1].prev == MariaDbGtid{0, 1, 3});
  CHECK(tails[1].time_min == 1700000004);
  CHECK(f.Head().gtid == "0-1-5");
  CHECK(f.Head().segment == tails[1].name);
  CHECK(f.last_stats.max_lag <= milliseconds(3000));
  // The dump read the local binlog from the beginning as the archiver's own server id.
  CHECK(f.server.opens.back().follow);
  CHECK(f.server.opens.back().dump_server_id == 0x80000001);
}

TEST_CASE("SIGTERM ships what is complete before the term ends") {
  Fixture f;
  f.Write(1, 2);
  f.on_heartbeat = [](int) { return true; };  // stop at the first idle moment
  REQUIRE(f.Term().ok());
  REQUIRE(f.Segments('t').size() == 1);
  CHECK(f.Head().gtid == "0-1-2");
}

TEST_CASE("the next term continues after the published head, in a new epoch") {
  Fixture f;
  f.Write(1, 3);
  f.on_heartbeat = [](int beat) { return beat == 5; };
  REQUIRE(f.Term().ok());
  f.Write(4, 6);
  REQUIRE(f.Term().ok());
  CHECK(f.last_stats.epoch == 2);
  CHECK(f.server.opens.back().start == "0-1-3");
  auto chain = BuildChain(f.Segments());
  REQUIRE(chain.parts.size() == 1);
  CHECK(chain.Head() == MariaDbGtid{0, 1, 6});
  CHECK(chain.parts[0].links.size() == 2);
}

TEST_CASE("a primary that lost PRIMARY_KEY withdraws its segment and stops") {
  Fixture f;
  f.Write(1, 2);
  f.on_heartbeat = [&](int beat) {
    if (beat == 1) REQUIRE(*f.consul.Release(kPrimaryKey, f.session, ""));
    return beat == 10;
  };
  Status st = f.Term();
  CHECK(st.code() == Code::kAborted);
  CHECK(f.Segments('t').empty());
  CHECK(f.store.removed.size() == 1);
  CHECK(f.Logged("segment withdrawn"));
}

TEST_CASE("a newer epoch taken elsewhere ends the older term at its next tail") {
  Fixture f;
  f.Write(1, 2);
  f.on_heartbeat = [&](int beat) {
    if (beat == 1)
      REQUIRE(f.consul.Put(kArchiveKey, R"({"epoch":9,"node":"x","gtid":"0-1-2"})").ok());
    return beat == 10;
  };
  CHECK(f.Term().code() == Code::kAborted);
  CHECK(f.Segments('t').empty());
}

TEST_CASE("two archivers racing for an epoch: the loser's check-and-set fails") {
  Fixture f;
  f.Write(1, 1);
  f.on_heartbeat = [](int beat) { return beat == 5; };
  REQUIRE(f.Term().ok());
  const size_t before = f.Segments().size();
  // Another archiver takes epoch 2 while this one probes where to attach.
  f.server.on_open = [&](const mysql::BinlogDumpOptions& o) {
    if (!o.follow) (void)f.consul.Put(kArchiveKey, R"({"epoch":2,"node":"n2","gtid":"0-1-1"})");
  };
  Status st = f.Term();
  CHECK(st.code() == Code::kAborted);
  CHECK(f.Segments().size() == before);  // not even a marker
}

TEST_CASE("tails are sealed into one segment and then deleted") {
  Fixture f;
  f.Write(1, 1);
  f.on_heartbeat = [&](int beat) {
    if (beat % 5 == 0 && beat <= 20) f.Write(beat / 5 + 1, beat / 5 + 1);
    return beat == 40;
  };
  ArchiverSettings s = f.Settings();
  s.seal_age = seconds(12);
  REQUIRE(f.Term(s).ok());
  CHECK(f.last_stats.seals >= 1);
  auto chain = BuildChain(f.Segments());
  REQUIRE(chain.parts.size() == 1);
  CHECK(chain.Head() == MariaDbGtid{0, 1, 5});
  REQUIRE(chain.parts[0].links.front().segment.kind == SegmentKind::kSealed);
  CHECK(f.Seqnos(chain.parts[0].links.front().segment).front() == 1);
  // The tails it covers are gone; only what came after it remains a tail.
  for (const SegmentInfo& t : f.Segments('t')) {
    CHECK(t.first.seqno > chain.parts[0].links.front().segment.last.seqno);
  }
}

TEST_CASE("after a fork the new primary attaches where its history and the archive part") {
  Fixture f;
  f.Write(1, 14);  // the old primary archived up to 1:14
  f.on_heartbeat = [](int beat) { return beat == 5; };
  REQUIRE(f.Term().ok());
  // The new primary (server 2) had 1:1..1:12, then wrote its own.
  f.server.log.resize(12);
  f.Write(13, 15, 2);
  REQUIRE(f.consul.Put(HeadKey(kArchiveKey), f.consul.Peek(HeadKey(kArchiveKey))->value).ok());
  REQUIRE(f.Term().ok());
  CHECK(f.Logged("forked=yes"));
  auto chain = BuildChain(f.Segments());
  REQUIRE(chain.parts.size() == 1);
  CHECK(chain.Head() == MariaDbGtid{0, 2, 15});
  const ChainLink& old = chain.parts[0].links.front();
  REQUIRE(old.stop_after);
  CHECK(*old.stop_after == MariaDbGtid{0, 1, 12});
}

TEST_CASE("a primary whose binlog begins after the archive's head reports a gap") {
  Fixture f;
  f.Write(1, 3);
  f.on_heartbeat = [](int beat) { return beat == 5; };
  REQUIRE(f.Term().ok());
  f.Write(4, 9, 2);
  f.server.purged = 6;  // 1:1..2:6 are gone from this node's binlog
  REQUIRE(f.Term().ok());
  REQUIRE(f.gaps.size() == 1);
  CHECK(f.gaps[0].first == MariaDbGtid{0, 1, 3});
  CHECK(f.gaps[0].second == MariaDbGtid{0, 2, 6});
  auto chain = BuildChain(f.Segments());
  CHECK(chain.gaps.size() == 1);
}

TEST_CASE("a lost dump ships what is complete and ends the term with the error") {
  Fixture f;
  f.Write(1, 2);
  f.server.fail_after_events = 2 + 8 + 1;  // rotate, format, two transactions, one heartbeat
  Status st = f.Term();
  CHECK(st.code() == Code::kUnavailable);
  REQUIRE(f.Segments('t').size() == 1);
  CHECK(f.Head().gtid == "0-1-2");
}

// An archive with a hole: three tails of three transactions each, the middle
// one lost from the store.
Chain ArchiveWithAHole(Fixture& f) {
  f.Write(1, 3);
  f.on_heartbeat = [&](int beat) {
    if (beat == 5) f.Write(4, 6);
    if (beat == 10) f.Write(7, 9);
    return beat == 15;
  };
  REQUIRE(f.Term().ok());
  auto tails = f.Segments('t');
  REQUIRE(tails.size() == 3);
  for (const SegmentInfo& t : tails) {
    if (t.first.seqno == 4) REQUIRE(f.store.Remove(t.name).ok());
  }
  Chain chain = BuildChain(f.Segments());
  REQUIRE(chain.gaps.size() == 1);
  return chain;
}

FillEnv FillEnvOf(Fixture& f) {
  FillEnv env;
  env.store = &f.store;
  env.dumper = &f.dumper;
  env.new_spool = []() -> Result<std::unique_ptr<Spool>> {
    return std::unique_ptr<Spool>(new MemorySpool());
  };
  env.segment_bytes = 1 << 20;
  return env;
}

FillSource SourceOf(Fixture& f) {
  FillSource s;
  s.name = "mysql-n2";
  s.dump.dump_server_id = 0x80000002;
  s.probe_server_id = 0x80000003;
  s.oldest_state = [&f]() -> Result<std::string> { return f.server.OldestState(); };
  return s;
}

TEST_CASE("a gap is filled from a node whose binlog still has its transactions") {
  Fixture f;
  Chain chain = ArchiveWithAHole(f);
  auto filled = FillGap(chain, 0, SourceOf(f), FillEnvOf(f));
  REQUIRE(filled.ok());
  CHECK(*filled == 3);
  auto fills = f.Segments('f');
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].epoch == 1);
  CHECK(fills[0].prev == MariaDbGtid{0, 1, 3});
  CHECK(f.Seqnos(fills[0]) == std::vector<uint64_t>{4, 5, 6});
  // Fills are cut at BINLOG_ARCHIVE_SEAL_MB like any segment.
  for (const SegmentInfo& s : fills) REQUIRE(f.store.Remove(s.name).ok());
  FillEnv small = FillEnvOf(f);
  small.segment_bytes = 1;
  REQUIRE(FillGap(chain, 0, SourceOf(f), small).ok());
  CHECK(f.Segments('f').size() == 3);
  Chain after = BuildChain(f.Segments());
  CHECK(after.gaps.empty());
  CHECK(after.Head() == MariaDbGtid{0, 1, 9});
}

TEST_CASE("a node that cannot fill a gap says why and writes nothing") {
  SECTION("its binlogs were purged past the gap") {
    Fixture f;
    Chain chain = ArchiveWithAHole(f);
    f.server.purged = 6;
    CHECK(FillGap(chain, 0, SourceOf(f), FillEnvOf(f)).status().code() == Code::kNotFound);
    CHECK(f.Segments('f').empty());
  }
  SECTION("its history does not lead to the far end of the gap") {
    Fixture f;
    Chain chain = ArchiveWithAHole(f);
    f.server.log.resize(4);
    f.Write(5, 9, 7);  // another server's 5..9: 0-1-6 is not in this history
    FillEnv env = FillEnvOf(f);
    env.segment_bytes = 1;  // one segment per transaction: none may be uploaded early
    auto filled = FillGap(chain, 0, SourceOf(f), env);
    CHECK(filled.status().code() == Code::kFailedPrecondition);
    CHECK(f.Segments('f').empty());
  }
}

}  // namespace
}  // namespace manage::archive
