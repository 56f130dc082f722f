#include "backup/defaults_file.h"

#include <catch2/catch.hpp>

namespace manage::backup {
namespace {

TEST_CASE("MariabackupDefaultsFile puts credentials in a [mariabackup] group") {
  Result<std::string> text =
      MariabackupDefaultsFile({"repl", "s3cr#t \"x\"", "/var/run/mysqld/mysqld.sock", "", 0});
  REQUIRE(text.ok());
  CHECK(*text ==
        "[mariabackup]\n"
        "user=\"repl\"\n"
        "password=\"s3cr#t \\\"x\\\"\"\n"
        "socket=\"/var/run/mysqld/mysqld.sock\"\n");
}

TEST_CASE("MariabackupDefaultsFile uses host and port without a socket") {
  Result<std::string> text = MariabackupDefaultsFile({"repl", "", "", "127.0.0.1", 3307});
  REQUIRE(text.ok());
  CHECK(*text == "[mariabackup]\nuser=\"repl\"\npassword=\"\"\nhost=\"127.0.0.1\"\nport=3307\n");
}

TEST_CASE("MariabackupDefaultsFile rejects what it cannot write") {
  CHECK(MariabackupDefaultsFile({"", "pw", "", "", 0}).status().code() == Code::kInvalidArgument);
  CHECK(MariabackupDefaultsFile({"u", std::string("a\0b", 3), "", "", 0}).status().code() ==
        Code::kInvalidArgument);
}

TEST_CASE("OptionFileQuote escapes what option files interpret") {
  auto [value, want] = GENERATE(table<std::string, std::string>({
      {"plain", "\"plain\""},
      {"", "\"\""},
      {"with space # and ;", "\"with space # and ;\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"it's \"q\"", "\"it\\'s \\\"q\\\"\""},
      {"line\nbreak\r\ttab", "\"line\\nbreak\\r\\ttab\""},
  }));
  CHECK(OptionFileQuote(value) == want);
}

}  // namespace
}  // namespace manage::backup
