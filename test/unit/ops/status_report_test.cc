#include "ops/status_report.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace manage::ops {
namespace {

using Strings = std::vector<std::string>;

constexpr char kPassword[] = "repl-Secret-2";

NodeRow Primary() {
  NodeRow n;
  n.name = "mysql-n1";
  n.address = "10.0.0.11";
  n.port = 3306;
  n.role = "primary";
  n.healthy = true;
  n.gtid = "0-1-9";
  n.read_only = false;
  return n;
}

NodeRow Replica() {
  NodeRow n;
  n.name = "mysql-n2";
  n.address = "10.0.0.12";
  n.port = 3307;
  n.role = "replica";
  n.healthy = true;
  n.gtid = "0-1-8";
  n.lag_seconds = 4;
  n.read_only = true;
  return n;
}

NodeRow Unreachable(std::string error = "Can't connect to server on '10.0.0.13' (111)") {
  NodeRow n;
  n.name = "mysql-n3";
  n.address = "10.0.0.13";
  n.port = 3306;
  n.role = "unassigned";
  n.healthy = false;
  n.error = std::move(error);
  return n;
}

SnapshotRow Snapshot() {
  SnapshotRow s{"mysql-backup-2026-01-01T00-00-00Z",
                "2026-01-01T00:00:00.000000",
                "0-1-7",
                "mysql-n1",
                std::string(64, 'a'),
                1234};
  s.raw_size = 5678;
  s.duration_ms = 2500;
  s.compression = "zstd";
  s.encryption = "aes-256-gcm";
  return s;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("FormatText: one line per node, then the lock and the newest snapshot") {
  struct Row {
    const char* what;
    StatusReport report;
    Strings want;    // substrings that must appear
    Strings absent;  // substrings that must not
  };
  const Row rows[] = {
      {"healthy cluster",
       {"mysql", "mysql-n1", {Primary(), Replica()}, Snapshot(), {}},
       {"NODE", "mysql-n1", "10.0.0.11:3306", "primary", "passing", "OFF", "0-1-9",
        "10.0.0.12:3307", "replica", "ON", "4s", "primary lock: mysql-n1\n",
        "newest snapshot: mysql-backup-2026-01-01T00-00-00Z taken 2026-01-01T00:00:00.000000 by "
        "mysql-n1 gtid=0-1-7 size=1234 sha256=" +
            std::string(64, 'a') + "\n"},
       {"unreachable", "(none)", "(free)", "(empty)"}},
      {"a node that cannot be read",
       {"mysql", "mysql-n1", {Primary(), Unreachable()}, std::nullopt, {}},
       {"mysql-n3", "failing", "unreachable: Can't connect", "newest snapshot: (none)\n"},
       {}},
      {"no primary, empty GTID",
       {"mysql",
        "",
        {[] {
          auto n = Replica();
          n.gtid = "";
          n.lag_seconds.reset();
          return n;
        }()},
        std::nullopt,
        {}},
       {"primary lock: (free)\n", "(empty)"},
       {"4s"}},
      {"no nodes", {"mysql", "", {}, std::nullopt, {}}, {"(no nodes registered)\n"}, {"mysql-n"}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    std::string text = FormatText(row.report);
    CAPTURE(text);
    for (const std::string& w : row.want) CHECK(Has(text, w));
    for (const std::string& a : row.absent) CHECK_FALSE(Has(text, a));
    CHECK_FALSE(Has(text, kPassword));
    // Header, one line per node (or the "no nodes" line), lock, snapshot.
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    size_t node_lines = row.report.nodes.empty() ? 1 : row.report.nodes.size();
    CHECK(lines == 1 + node_lines + 2);
  }
}

TEST_CASE("FormatJson round-trips through a JSON parser") {
  const std::string error = "Can't connect to \"10.0.0.13\" (111)\n\tretrying \\ later";
  StatusReport report{
      "mysql", "mysql-n1", {Primary(), Replica(), Unreachable(error)}, Snapshot(), {}};
  std::string json = FormatJson(report);
  CHECK_FALSE(Has(json, kPassword));
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["service"].GetString()) == "mysql");
  CHECK(std::string(doc["primary"].GetString()) == "mysql-n1");
  const rapidjson::Value& nodes = doc["nodes"];
  REQUIRE(nodes.IsArray());
  REQUIRE(nodes.Size() == 3);

  const rapidjson::Value& p = nodes[0];
  CHECK(std::string(p["name"].GetString()) == "mysql-n1");
  CHECK(std::string(p["address"].GetString()) == "10.0.0.11");
  CHECK(p["port"].GetInt() == 3306);
  CHECK(std::string(p["role"].GetString()) == "primary");
  CHECK(p["healthy"].GetBool());
  CHECK(std::string(p["gtid"].GetString()) == "0-1-9");
  CHECK(p["lag_seconds"].IsNull());
  CHECK(p["read_only"].IsFalse());
  CHECK(p["error"].IsNull());

  const rapidjson::Value& r = nodes[1];
  CHECK(r["port"].GetInt() == 3307);
  CHECK(r["lag_seconds"].GetInt64() == 4);
  CHECK(r["read_only"].IsTrue());

  const rapidjson::Value& u = nodes[2];
  CHECK_FALSE(u["healthy"].GetBool());
  CHECK(u["read_only"].IsNull());
  CHECK(std::string(u["error"].GetString()) == error);

  const rapidjson::Value& s = doc["snapshot"];
  REQUIRE(s.IsObject());
  CHECK(std::string(s["id"].GetString()) == "mysql-backup-2026-01-01T00-00-00Z");
  CHECK(std::string(s["dt"].GetString()) == "2026-01-01T00:00:00.000000");
  CHECK(std::string(s["gtid"].GetString()) == "0-1-7");
  CHECK(std::string(s["node"].GetString()) == "mysql-n1");
  CHECK(s["size"].GetUint64() == 1234);
  CHECK(std::string(s["sha256"].GetString()) == std::string(64, 'a'));
  CHECK(s["raw_size"].GetUint64() == 5678);
  CHECK(s["duration_ms"].GetUint64() == 2500);
  CHECK(std::string(s["compression"].GetString()) == "zstd");
  CHECK(std::string(s["encryption"].GetString()) == "aes-256-gcm");
}

TEST_CASE("The failover history is shown, newest last, and in JSON") {
  StatusReport report{"mysql", "mysql-n2", {Primary()}, std::nullopt, {}};
  for (int i = 0; i < 12; ++i) {
    report.history.push_back({"2026-11-23T06:00:0" + std::to_string(i % 10) + ".000000",
                              i == 11 ? "switchover" : "failover",
                              "mysql-n1",
                              "mysql-n2",
                              "the primary lock is free",
                              100 + i,
                              {{"mysql-n2", "0-1-5"}, {"mysql-n3", ""}}});
  }
  std::string text = FormatText(report);
  CHECK(Has(text, "failovers and switchovers (12 recorded, newest last):"));
  CHECK(Has(text,
            "switchover mysql-n1 -> mysql-n2 in 111 ms; the primary lock is free; "
            "candidates: mysql-n2=0-1-5 mysql-n3=(empty)"));
  CHECK_FALSE(Has(text, "in 100 ms"));  // only the newest ten in text
  rapidjson::Document doc;
  doc.Parse(FormatJson(report).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc["history"].Size() == 12);
  const rapidjson::Value& last = doc["history"][11];
  CHECK(std::string(last["kind"].GetString()) == "switchover");
  CHECK(last["duration_ms"].GetInt64() == 111);
  CHECK(std::string(last["candidates"][0]["gtid"].GetString()) == "0-1-5");
}

TEST_CASE("FormatJson: no primary, no nodes and no snapshot are null and empty") {
  std::string json = FormatJson(StatusReport{"db-a", "", {}, std::nullopt, {}});
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["service"].GetString()) == "db-a");
  CHECK(doc["primary"].IsNull());
  CHECK(doc["nodes"].IsArray());
  CHECK(doc["nodes"].Size() == 0);
  CHECK(doc["snapshot"].IsNull());
  CHECK(json.back() == '\n');
}

}  // namespace
}  // namespace manage::ops
