#include "core/env.h"

#include <catch2/catch.hpp>

namespace manage {
namespace {

TEST_CASE("StripComment keeps '#' inside words") {
  struct Row {
    const char* in;
    const char* out;
  };
  const Row rows[] = {
      {"value", "value"},
      {"value # a comment", "value "},
      {"value\t#comment", "value\t"},
      {"#all comment", ""},
      {"pa#ss", "pa#ss"},
      {"pa#ss # note", "pa#ss "},
      {"", ""},
  };
  for (const Row& r : rows) {
    INFO(r.in);
    CHECK(StripComment(r.in) == r.out);
  }
}

TEST_CASE("ExpandVars expands known names and leaves the rest") {
  Env env{{"USER", "alice"}, {"EMPTY", ""}, {"A_1", "x"}};
  struct Row {
    const char* in;
    const char* out;
  };
  const Row rows[] = {
      {"/stor/$USER/backups", "/stor/alice/backups"},
      {"/stor/${USER}/backups", "/stor/alice/backups"},
      {"$UNKNOWN/x", "$UNKNOWN/x"},
      {"${UNKNOWN}", "${UNKNOWN}"},
      {"a$EMPTY-b", "a-b"},
      {"$A_1$A_1", "xx"},
      {"cost $5", "cost $5"},
      {"trailing $", "trailing $"},
      {"${unclosed", "${unclosed"},
  };
  for (const Row& r : rows) {
    INFO(r.in);
    CHECK(ExpandVars(r.in, env) == r.out);
  }
}

TEST_CASE("CleanValue strips, trims and expands in that order") {
  Env env{{"SVC", "db"}};
  CHECK(CleanValue("  ${SVC}-primary   # key", env) == "db-primary");
}

TEST_CASE("ParseFlag accepts the original's spellings in any case") {
  CHECK(ParseFlag("yes") == true);
  CHECK(ParseFlag("YES") == true);
  CHECK(ParseFlag("1") == true);
  CHECK(ParseFlag("True") == true);
  CHECK(ParseFlag("no") == false);
  CHECK(ParseFlag("0") == false);
  CHECK(ParseFlag("false") == false);
  CHECK_FALSE(ParseFlag("maybe").has_value());
  CHECK_FALSE(ParseFlag("").has_value());
}

TEST_CASE("EnvReader reports the first bad variable by name") {
  Env env{{"N", "12x"}, {"F", "perhaps"}, {"OK", "7"}};
  EnvReader r(env);
  CHECK(r.Int("OK", 1, 0, 10) == 7);
  CHECK(r.Int("N", 5, 0, 100) == 5);
  CHECK(r.Flag("F", true) == true);
  REQUIRE_FALSE(r.status().ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().rfind("N:", 0) == 0);
}

TEST_CASE("EnvReader range checks integers") {
  Env env{{"TTL", "5"}};
  EnvReader r(env);
  r.Int("TTL", 25, 10, 100);
  REQUIRE_FALSE(r.status().ok());
  CHECK(r.status().message().find("out of range") != std::string::npos);
}

}  // namespace
}  // namespace manage
