#include "mysql/binlog_event.h"

#include <catch2/catch.hpp>

#include "fakes/binlog_maker.h"

namespace manage::mysql {
namespace {

using testing::MakeDdl;
using testing::MakeFde;
using testing::MakeGtid;
using testing::MakeQuery;
using testing::MakeRows;
using testing::MakeXid;

TEST_CASE("a format description says whether events carry a CRC-32") {
  for (bool crc : {true, false}) {
    auto f = ParseFormatDescription(MakeFde(1700000000, crc));
    REQUIRE(f.ok());
    CHECK(f->crc32 == crc);
    CHECK(f->post_header[kQueryEvent] == 13);
    CHECK(f->server_version == "10.11.19-MariaDB-log");
    CHECK(CheckEventCrc(MakeFde(1700000000, crc), *f).ok());
  }
  // The creation time is not part of the layout; the version is.
  CHECK(ParseFormatDescription(MakeFde(1))->layout == ParseFormatDescription(MakeFde(2))->layout);
  CHECK(ParseFormatDescription(MakeFde(1))->layout !=
        ParseFormatDescription(MakeFde(1, true, "11.4.2-MariaDB"))->layout);
  CHECK(ParseFormatDescription(MakeXid(1, 1)).status().code() == Code::kInternal);
}

TEST_CASE("a changed byte fails the CRC-32, with or without checksums the header is checked") {
  const BinlogFormat f = *ParseFormatDescription(MakeFde());
  std::string xid = MakeXid(3, 100);
  CHECK(CheckEventCrc(xid, f).ok());
  xid[20] ^= 1;
  CHECK(CheckEventCrc(xid, f).message().find("CRC-32 mismatch") != std::string::npos);
  std::string fde = MakeFde();
  fde[30] ^= 1;
  CHECK_FALSE(CheckEventCrc(fde, f).ok());
  // A size that disagrees with the bytes given.
  CHECK(ParseEventHeader(xid.substr(0, xid.size() - 1)).status().code() == Code::kInternal);
  CHECK(ParseEventHeader("short").status().code() == Code::kInternal);
}

TEST_CASE("GTID events give the GTID, the header's server and time, and the flags") {
  auto g = ParseGtidEvent(MakeGtid(123456789012ULL, 77, 1700000005, 3, kGtidStandalone));
  REQUIRE(g.ok());
  CHECK(g->gtid == MariaDbGtid{3, 77, 123456789012ULL});
  CHECK(g->timestamp == 1700000005);
  CHECK(g->flags == kGtidStandalone);
  CHECK_FALSE(ParseGtidEvent(MakeGtid(0, 1, 1)).ok());
}

TEST_CASE("the group-ending rule is the server's") {
  const BinlogFormat f = *ParseFormatDescription(MakeFde());
  struct Row {
    std::string event;
    uint8_t gtid_flags;
    bool ends;
  };
  const Row rows[] = {
      {MakeXid(1, 1), 0, true},
      {MakeQuery("COMMIT", 1, 1), 0, true},
      {MakeQuery("ROLLBACK", 1, 1), 0, true},
      {MakeQuery("ROLLBACK TO sp1", 1, 1), 0, false},
      {MakeQuery("BEGIN", 1, 1), 0, false},
      {MakeQuery("INSERT INTO t VALUES (1)", 1, 1), 0, false},
      {MakeQuery("XA COMMIT X'31'", 1, 1), 0, true},
      {MakeQuery("xa  rollback X'31'", 1, 1), 0, true},
      {MakeQuery("CREATE TABLE t (i INT)", 1, 1), kGtidStandalone, true},
      {MakeRows(1, 1), 0, false},
      {MakeRows(1, 1), kGtidStandalone, false},
  };
  for (const Row& r : rows) {
    auto text = QueryText(r.event, f);
    INFO((text.ok() && text->has_value() ? std::string(**text) : "(not a query)"));
    auto ends = EndsGroup(r.event, f, r.gtid_flags);
    REQUIRE(ends.ok());
    CHECK(*ends == r.ends);
  }
  CHECK(*QueryText(MakeDdl(5, 1, 1, "DROP TABLE `t`")[1], f) == std::string_view("DROP TABLE `t`"));
}

TEST_CASE("a query event whose lengths do not fit is refused") {
  const BinlogFormat f = *ParseFormatDescription(MakeFde());
  std::string q = MakeQuery("COMMIT", 1, 1);
  q[19 + 11] = static_cast<char>(0xff);  // status variables length
  CHECK(QueryText(q, f).status().code() == Code::kInternal);
}

}  // namespace
}  // namespace manage::mysql
