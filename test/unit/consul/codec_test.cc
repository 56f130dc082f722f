#include "consul/codec.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

namespace manage::consul {
namespace {

using namespace std::chrono_literals;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("Base64Decode", "[consul]") {
  struct Row {
    std::string in;
    std::optional<std::string> want;  // nullopt: InvalidArgument
  };
  const Row rows[] = {
      {"", ""},
      {"bXlzcWwtbm9kZTE=", "mysql-node1"},
      {"bXlzcWwtbm9kZTI=", "mysql-node2"},
      {"eyJpZCI6Im15c3FsLWJhY2t1cC0yMDI2LTExLTIzVDA0LTAwLTAwWiIsImR0IjoiMjAyNi0xMS0yM1QwNDowMDowMC4"
       "w"
       "MDAwMDAifQ==",
       R"({"id":"mysql-backup-2026-11-23T04-00-00Z","dt":"2026-11-23T04:00:00.000000"})"},
      {"Zg==", "f"},
      {"Zg", "f"},
      {"Zm8=", "fo"},
      {"Zm8", "fo"},
      {"Zm9v", "foo"},
      {"AP8=", std::string("\0\xff", 2)},
      {"+/+/", "\xfb\xff\xbf"},
      {"Z", std::nullopt},
      {"Zm9vY", std::nullopt},
      {"Zg=", std::nullopt},
      {"Zg===", std::nullopt},
      {"Zm9v!", std::nullopt},
      {"Zm 9v", std::nullopt},
      {"Zm9v-_", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO("in=" << row.in);
    Result<std::string> got = Base64Decode(row.in);
    if (row.want) {
      REQUIRE(got.ok());
      CHECK(*got == *row.want);
    } else {
      REQUIRE_FALSE(got.ok());
      CHECK(got.status().code() == Code::kInvalidArgument);
    }
  }
}

TEST_CASE("SessionCreateBody matches what Consul is sent", "[consul]") {
  struct Row {
    SessionSpec spec;
    std::string want;
  };
  const std::vector<std::string> tied = {"serfHealth", "service:mysql-primary-node1"};
  const Row rows[] = {
      {{"mysql-primary-lock", 10s, "release", 15s, std::nullopt},
       R"({"Name":"mysql-primary-lock","TTL":"10s","Behavior":"release","LockDelay":"15s"})"},
      {{"tied", 10s, "release", 0s, tied},
       R"({"Name":"tied","TTL":"10s","Behavior":"release","LockDelay":"0s",)"
       R"("Checks":["serfHealth","service:mysql-primary-node1"]})"},
      {{"no-ttl", 0s, "delete", 15s, std::nullopt},
       R"({"Name":"no-ttl","Behavior":"delete","LockDelay":"15s"})"},
      {{"no-checks", 25s, "release", 1s, std::vector<std::string>{}},
       R"({"Name":"no-checks","TTL":"25s","Behavior":"release","LockDelay":"1s","Checks":[]})"},
      // Without serfHealth: Consul would add it to a Checks list, so the
      // service check goes in ServiceChecks with NodeChecks empty.
      {{"service-only", 10s, "release", 1s, std::vector<std::string>{"service:mysql-n1"}},
       R"({"Name":"service-only","TTL":"10s","Behavior":"release","LockDelay":"1s",)"
       R"("NodeChecks":[],"ServiceChecks":[{"ID":"service:mysql-n1"}]})"},
      {{"quote\"d", 10s, "release", 15s, std::nullopt},
       R"({"Name":"quote\"d","TTL":"10s","Behavior":"release","LockDelay":"15s"})"},
  };
  for (const Row& row : rows) {
    INFO(row.spec.name);
    CHECK(SessionCreateBody(row.spec) == row.want);
  }
}

// containerpilot.md, "Registration and heartbeats (observed Consul traffic)".
TEST_CASE("ServiceRegisterBody is what ContainerPilot 3 sends", "[consul]") {
  ServiceRegistration plain{
      "mysql-node1", "mysql", {},        3306,
      "127.0.0.2",   25s,     "passing", "TTL for mysql set by containerpilot"};
  CHECK(ServiceRegisterBody(plain) ==
        R"({"ID":"mysql-node1","Name":"mysql","Port":3306,"Address":"127.0.0.2",)"
        R"("Check":{"TTL":"25s","Status":"passing","Notes":"TTL for mysql set by containerpilot"},)"
        R"("Checks":null})");
  ServiceRegistration tagged = plain;
  tagged.tags = {"failover-priority=0", "no-failover"};
  CHECK(ServiceRegisterBody(tagged) ==
        R"({"ID":"mysql-node1","Name":"mysql","Tags":["failover-priority=0","no-failover"],)"
        R"("Port":3306,"Address":"127.0.0.2",)"
        R"("Check":{"TTL":"25s","Status":"passing","Notes":"TTL for mysql set by containerpilot"},)"
        R"("Checks":null})");
  CHECK(CheckUpdateBody("passing", "ok") == R"({"Status":"passing","Output":"ok"})");
}

TEST_CASE("ValidateSessionSpec", "[consul]") {
  struct Row {
    SessionSpec spec;
    bool ok;
  };
  const Row rows[] = {
      {{"a", 10s, "release", 15s, std::nullopt}, true},
      {{"a", 0s, "delete", 0s, std::nullopt}, true},
      {{"a", 86400s, "release", 60s, std::nullopt}, true},
      {{"a", 9s, "release", 15s, std::nullopt}, false},
      {{"a", 86401s, "release", 15s, std::nullopt}, false},
      {{"a", 10s, "Release", 15s, std::nullopt}, false},
      {{"a", 10s, "", 15s, std::nullopt}, false},
      {{"a", 10s, "release", -1s, std::nullopt}, false},
  };
  for (const Row& row : rows) {
    INFO("ttl=" << row.spec.ttl.count() << " behavior=" << row.spec.behavior
                << " lock_delay=" << row.spec.lock_delay.count());
    Status status = ValidateSessionSpec(row.spec);
    CHECK(status.ok() == row.ok);
    if (!row.ok) CHECK(status.code() == Code::kInvalidArgument);
  }
}

TEST_CASE("ParseKvPairs reads the transcript's entries", "[consul]") {
  Result<std::vector<KvPair>> pairs = ParseKvPairs(R"([
    {"LockIndex": 1, "Key": "mysql-primary", "Flags": 0, "Value": "bXlzcWwtbm9kZTE=",
     "Session": "bad64c55-235e-5082-919c-765eac5e86a6", "CreateIndex": 20, "ModifyIndex": 20},
    {"LockIndex": 1, "Key": "mysql-primary2", "Flags": 7, "Value": null,
     "CreateIndex": 20, "ModifyIndex": 22}])");
  REQUIRE(pairs.ok());
  REQUIRE(pairs->size() == 2);
  const KvPair& held = (*pairs)[0];
  CHECK(held.key == "mysql-primary");
  CHECK(held.value == "mysql-node1");
  CHECK(held.session == "bad64c55-235e-5082-919c-765eac5e86a6");
  CHECK(held.lock_index == 1);
  CHECK(held.create_index == 20);
  CHECK(held.modify_index == 20);
  const KvPair& released = (*pairs)[1];
  CHECK(released.value.empty());
  CHECK(released.session.empty());
  CHECK(released.flags == 7);
  CHECK(released.modify_index == 22);
}

// Every parser fails with Internal and a message naming what was wrong.
TEST_CASE("Parsers reject malformed and mistyped bodies", "[consul]") {
  enum Parser { kSession, kBool, kKv, kHealth };
  struct Row {
    Parser parser;
    std::string body;
    std::string want_message;
  };
  const std::string node = R"("Node":{"Node":"vm","Address":"127.0.0.1"})";
  const Row rows[] = {
      {kSession, "", "malformed JSON from Consul"},
      {kSession, "not json", "malformed JSON from Consul"},
      {kSession, "<html>502 Bad Gateway</html>", "<html>502 Bad Gateway"},
      {kSession, "[]", "session is not an object"},
      {kSession, "{}", "session.ID is missing"},
      {kSession, R"({"ID": 5})", "session.ID is not a string"},
      {kSession, R"({"ID": ""})", "session.ID is empty"},
      {kBool, "", "malformed JSON from Consul"},
      {kBool, "\"true\"", "expected true or false"},
      {kBool, "1", "expected true or false"},
      {kBool, "true false", "malformed JSON from Consul"},
      {kKv, "{}", "kv is not an array"},
      {kKv, "[1]", "kv[0] is not an object"},
      {kKv, R"([{"Value": "eA=="}])", "kv[0].Key is missing"},
      {kKv, R"([{"Key": 1}])", "kv[0].Key is not a string"},
      {kKv, R"([{"Key": "k", "Value": 5}])", "kv[0].Value is not a string"},
      {kKv, R"([{"Key": "k", "Value": "!!"}])", "kv[0].Value is not base64"},
      {kKv, R"([{"Key": "k", "Session": true}])", "kv[0].Session is not a string"},
      {kKv, R"([{"Key": "k", "ModifyIndex": -1}])", "kv[0].ModifyIndex is not an unsigned"},
      {kKv, R"([{"Key": "k", "LockIndex": "1"}])", "kv[0].LockIndex is not an unsigned"},
      {kHealth, "null", "health is not an array"},
      {kHealth, "[[]]", "health[0] is not an object"},
      {kHealth, R"([{"Service":{"ID":"a"}}])", "health[0].Node is missing"},
      {kHealth, "[{" + node + "}]", "health[0].Service is missing"},
      {kHealth, "[{" + node + R"(,"Service":[]}])", "health[0].Service is not an object"},
      {kHealth, "[{" + node + R"(,"Service":{}}])", "health[0].Service.ID is missing"},
      {kHealth, "[{" + node + R"(,"Service":{"ID":"a","Port":"3306"}}])",
       "health[0].Service.Port is not a port number"},
      {kHealth, "[{" + node + R"(,"Service":{"ID":"a","Port":70000}}])",
       "health[0].Service.Port is not a port number"},
      {kHealth, "[{" + node + R"(,"Service":{"ID":"a","Tags":"x"}}])",
       "health[0].Service.Tags is not an array"},
      {kHealth, "[{" + node + R"(,"Service":{"ID":"a","Tags":[1]}}])",
       "health[0].Service.Tags[0] is not a string"},
      {kHealth, "[{" + node + R"(,"Service":{"ID":"a"},"Checks":{}}])",
       "health[0].Checks is not an array"},
      {kHealth, "[{" + node + R"(,"Service":{"ID":"a"},"Checks":[{}]}])",
       "health[0].Checks[0].Status is missing"},
      {kHealth, R"([{"Node":{"Address":"x"},"Service":{"ID":"a"}}])",
       "health[0].Node.Node is missing"},
  };
  for (const Row& row : rows) {
    INFO("body=" << row.body);
    Status status;
    switch (row.parser) {
      case kSession:
        status = ParseSessionId(row.body).status();
        break;
      case kBool:
        status = ParseBool(row.body).status();
        break;
      case kKv:
        status = ParseKvPairs(row.body).status();
        break;
      case kHealth:
        status = ParseHealth(row.body).status();
        break;
    }
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == Code::kInternal);
    CHECK(Contains(status.message(), row.want_message));
  }
}

TEST_CASE("ParseHealth falls back to the node address and tolerates nulls", "[consul]") {
  Result<std::vector<ServiceInstance>> got = ParseHealth(R"([
    {"Node": {"Node": "n1", "Address": "10.0.0.1"},
     "Service": {"ID": "mysql-n1", "Service": "mysql", "Address": "", "Port": 3306,
                 "Tags": null, "Meta": null},
     "Checks": [{"Status": "passing"}, {"Status": "warning"}]},
    {"Node": {"Node": "n2", "Address": "10.0.0.2"},
     "Service": {"ID": "mysql-n2", "Service": "mysql", "Address": "10.0.1.2", "Port": 3307,
                 "Tags": ["replica", "dc1"]},
     "Checks": null}])");
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].address == "10.0.0.1");
  CHECK((*got)[0].tags.empty());
  CHECK_FALSE((*got)[0].passing);
  CHECK((*got)[1].address == "10.0.1.2");
  CHECK((*got)[1].port == 3307);
  CHECK((*got)[1].tags == std::vector<std::string>{"replica", "dc1"});
  CHECK((*got)[1].passing);
}

}  // namespace
}  // namespace manage::consul
