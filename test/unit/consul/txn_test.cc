// Transactions (PUT /v1/txn): the body HttpConsul sends, how it reads a 409,
// and the fake's semantics, which test_consul_double.py checks on the double.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "consul/codec.h"
#include "consul/consul.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_consul.h"
#include "fakes/fake_http.h"

namespace manage::consul {
namespace {

using namespace std::chrono_literals;
using Verb = TxnOp::Verb;

TEST_CASE("TxnBody writes each KV op as Consul reads it", "[consul]") {
  std::vector<TxnOp> ops = {{Verb::kCheckSession, "mysql-primary", "", "sess-1", 0},
                            {Verb::kCas, "mysql-last-backup", "{\"id\":\"b\"}", "", 42},
                            {Verb::kSet, "mysql-last-binlog", "bin.7", "", 0},
                            {Verb::kCheckIndex, "k", "", "", 9},
                            {Verb::kDelete, "gone", "", "", 0}};
  CHECK(TxnBody(ops) ==
        R"([{"KV":{"Verb":"check-session","Key":"mysql-primary","Session":"sess-1"}},)"
        R"({"KV":{"Verb":"cas","Key":"mysql-last-backup","Value":"eyJpZCI6ImIifQ==","Index":42}},)"
        R"({"KV":{"Verb":"set","Key":"mysql-last-binlog","Value":"YmluLjc="}},)"
        R"({"KV":{"Verb":"check-index","Key":"k","Index":9}},)"
        R"({"KV":{"Verb":"delete","Key":"gone"}}])");
}

TEST_CASE("HttpConsul::Txn: 200 applies, 409 is Aborted with Consul's reasons", "[consul]") {
  http::FakeTransport transport;
  HttpConsul consul(&transport, ConsulAddress{});
  std::vector<TxnOp> ops = {{Verb::kCheckSession, "p", "", "s", 0}, {Verb::kSet, "k", "v", "", 0}};
  transport.Push(200, "{\n    \"Results\": [],\n    \"Errors\": null\n}\n");
  REQUIRE(consul.Txn(ops).ok());
  CHECK(transport.last().method == "PUT");
  CHECK(transport.last().url == "http://consul:8500/v1/txn");
  CHECK(transport.last().body == TxnBody(ops));

  transport.Push(409, R"({"Results":null,"Errors":[{"OpIndex":0,"What":"failed session check )"
                      R"(for key \"p\", current session \"x\" != \"s\""}]})");
  Status st = consul.Txn(ops);
  CHECK(st.code() == Code::kAborted);
  CHECK(st.message() ==
        "transaction on key 'p' rolled back: op 0: failed session check for key \"p\", current "
        "session \"x\" != \"s\"");

  transport.Push(500, "No cluster leader");
  CHECK(consul.Txn(ops).code() == Code::kUnavailable);
  transport.Push(409, "not json");
  CHECK(consul.Txn(ops).code() == Code::kInternal);
  CHECK(consul.Txn({}).code() == Code::kInvalidArgument);
}

TEST_CASE("FakeConsul::Txn checks sessions and indexes and rolls back on any failure", "[consul]") {
  sys::FakeClock clock;
  FakeConsul fake(clock);
  Result<std::string> holder = fake.CreateSession({"lock", 10s, "release", 0s, std::nullopt});
  REQUIRE(holder.ok());
  REQUIRE(*fake.Acquire("primary", *holder, "node1"));
  REQUIRE(fake.Put("record", "old").ok());
  const uint64_t index = fake.Get("record")->modify_index;

  Status stale = fake.Txn({{Verb::kSet, "binlog", "b", "", 0},
                           {Verb::kCheckSession, "primary", "", "other", 0},
                           {Verb::kCas, "record", "new", "", index + 100}});
  CHECK(stale.code() == Code::kAborted);
  CHECK(stale.message() ==
        "transaction on key 'binlog' rolled back: op 1: failed session check for key "
        "\"primary\", current session \"" +
            *holder + "\" != \"other\"; op 2: failed to set key \"record\", index is stale");
  CHECK(fake.Get("binlog").status().code() == Code::kNotFound);
  CHECK(fake.Get("record")->value == "old");

  REQUIRE(fake.Txn({{Verb::kCheckSession, "primary", "", *holder, 0},
                    {Verb::kCas, "record", "new", "", index},
                    {Verb::kSet, "binlog", "b", "", 0}})
              .ok());
  CHECK(fake.Get("record")->value == "new");
  CHECK(fake.Get("binlog")->value == "b");
  CHECK(fake.Get("primary")->session == *holder);  // a check writes nothing
}

}  // namespace
}  // namespace manage::consul
