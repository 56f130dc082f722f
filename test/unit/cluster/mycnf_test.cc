#include "cluster/mycnf.h"

#include <catch2/catch.hpp>

namespace manage::cluster {
namespace {

TEST_CASE("RenderTemplate replaces every placeholder") {
  auto out = RenderTemplate("a={{A}} b={{B}} a={{A}}", {{"A", "1"}, {"B", "two"}});
  REQUIRE(out.ok());
  CHECK(*out == "a=1 b=two a=1");
}

TEST_CASE("RenderTemplate rejects unknown and unterminated placeholders") {
  auto unknown = RenderTemplate("x={{NOPE}}", {{"A", "1"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("{{NOPE}}") != std::string::npos);
  CHECK_FALSE(RenderTemplate("x={{A", {{"A", "1"}}).ok());
}

TEST_CASE("ServerIdFromAddress is unique per address and never 0") {
  CHECK(ServerIdFromAddress("127.0.0.2") == 0x7f000002u);
  CHECK(ServerIdFromAddress("127.0.0.3") != ServerIdFromAddress("127.0.0.2"));
  CHECK(ServerIdFromAddress("0.0.0.0") == 1u);
  CHECK(ServerIdFromAddress("garbage") == 1u);
}

TEST_CASE("MyCnfVars covers the shipped template") {
  Env env{{"NODE_IP", "127.0.0.2"},
          {"MYSQL_SOCKET", "/run/n1/mysqld.sock"},
          {"INNODB_BUFFER_POOL_SIZE", "256"}};
  auto config = LoadConfig(env, HostFacts{"n1", "", 1000});
  REQUIRE(config.ok());
  auto vars = MyCnfVars(*config, 42);
  CHECK(vars.at("SERVER_ID") == "42");
  CHECK(vars.at("REPORT_HOST") == "127.0.0.2");
  CHECK(vars.at("BUFFER_POOL_MB") == "256");
  CHECK(vars.at("PID_FILE") == "/run/n1/mysqld.pid");
  // The template in containerpilot/ must render with exactly these variables.
  std::FILE* f = std::fopen(MANAGE_SOURCE_DIR "/containerpilot/my.cnf.tmpl", "r");
  REQUIRE(f != nullptr);
  std::string tmpl;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) tmpl.append(buf, n);
  std::fclose(f);
  auto rendered = RenderTemplate(tmpl, vars);
  REQUIRE(rendered.ok());
  CHECK(rendered->find("server_id") != std::string::npos);
  CHECK(rendered->find("42") != std::string::npos);
}

}  // namespace
}  // namespace manage::cluster
