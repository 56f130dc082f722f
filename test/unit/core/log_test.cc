#include "core/log.h"

#include <catch2/catch.hpp>

namespace manage {
namespace {

struct Captured {
  std::vector<std::string> lines;
  Logger Make(LogLevel level, bool json = false) {
    return Logger([this](const std::string& l) { lines.push_back(l); }, level, json);
  }
};

TEST_CASE("Logger writes one logfmt line with context and fields") {
  Captured c;
  Logger log = c.Make(LogLevel::kInfo).With("hook", "health");
  log.Info("replication started", {{"primary", "10.0.0.2:3306"}, {"note", "two words"}});
  REQUIRE(c.lines.size() == 1);
  const std::string& l = c.lines[0];
  CHECK(l.find("level=info hook=health msg=\"replication started\" primary=10.0.0.2:3306 "
               "note=\"two words\"") != std::string::npos);
  CHECK(l.rfind("ts=", 0) == 0);
}

TEST_CASE("Logger drops lines below its level") {
  Captured c;
  Logger log = c.Make(LogLevel::kWarn);
  log.Info("hidden");
  log.Debug("hidden");
  log.Error("shown");
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("level=error") != std::string::npos);
}

TEST_CASE("Logger masks registered secrets in every copy") {
  Captured c;
  Logger log = c.Make(LogLevel::kDebug);
  Logger child = log.With("hook", "pre_start");
  log.AddSecret("hunter2");
  child.Info("password is hunter2", {{"dsn", "root:hunter2@host"}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("hunter2") == std::string::npos);
  CHECK(c.lines[0].find("***") != std::string::npos);
}

TEST_CASE("Logger masks secrets that escaping would change") {
  for (bool json : {false, true}) {
    CAPTURE(json);
    Captured c;
    Logger log = c.Make(LogLevel::kDebug, json);
    const std::string secret = R"(Zq"x\y z)";
    log.AddSecret(secret);
    log.Info("connecting", {{"error", "Access denied for password " + secret}});
    REQUIRE(c.lines.size() == 1);
    CHECK(c.lines[0].find("Zq") == std::string::npos);
    CHECK(c.lines[0].find("***") != std::string::npos);
  }
}

TEST_CASE("Logger JSON output escapes strings") {
  Captured c;
  c.Make(LogLevel::kInfo, true).Info("say \"hi\"\n");
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find(R"("msg":"say \"hi\"\n")") != std::string::npos);
  CHECK(c.lines[0].front() == '{');
}

TEST_CASE("ParseLogLevel accepts Python level names") {
  CHECK(*ParseLogLevel("debug") == LogLevel::kDebug);
  CHECK(*ParseLogLevel("WARNING") == LogLevel::kWarn);
  CHECK(*ParseLogLevel("CRITICAL") == LogLevel::kError);
  CHECK_FALSE(ParseLogLevel("verbose").ok());
}

}  // namespace
}  // namespace manage
