#include "mysql/client.h"

#include <catch2/catch.hpp>

#include "mysql/mariadb_error.h"

namespace manage::mysql {
namespace {

using namespace std::string_literals;

TEST_CASE("SqlQuote escapes what could end or corrupt a literal") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"", "''"},
      {"plain", "'plain'"},
      {"it's", "'it\\'s'"},
      {"back\\slash", "'back\\\\slash'"},
      {"say \"hi\"", "'say \\\"hi\\\"'"},
      {"a\nb\rc", "'a\\nb\\rc'"},
      {"nul\0x"s, "'nul\\0x'"},
      {"ctrl-z\x1a", "'ctrl-z\\Z'"},
      {"'; DROP TABLE t; --", "'\\'; DROP TABLE t; --'"},
      {"h\xc3\xa9llo", "'h\xc3\xa9llo'"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    CHECK(SqlQuote(c.in) == c.out);
  }
}

TEST_CASE("QueryResult::Get finds values by column name") {
  QueryResult r{{"a", "b"}, {Row{"1", std::nullopt}, Row{"2"}}};
  CHECK(r.Get(0, "a") == "1");
  CHECK(r.Get(0, "b") == std::nullopt);
  CHECK(r.Get(1, "a") == "2");
  CHECK(r.Get(1, "b") == std::nullopt);  // short row
  CHECK(r.Get(2, "a") == std::nullopt);
  CHECK(r.Get(0, "c") == std::nullopt);
}

TEST_CASE("Connector/C errors map to codes without leaking secrets") {
  struct Case {
    unsigned int code;
    const char* text;
    Code want;
    const char* message;
  };
  const Case cases[] = {
      {2002, "Can't connect to local server through socket '/x' (2)", Code::kUnavailable,
       "(2002) Can't connect to local server through socket '/x' (2)"},
      {2003, "Can't connect to server on 'db' (111)", Code::kUnavailable,
       "(2003) Can't connect to server on 'db' (111)"},
      {2005, "Unknown server host 'db'", Code::kUnavailable, "(2005) Unknown server host 'db'"},
      {2006, "Server has gone away", Code::kUnavailable, "(2006) Server has gone away"},
      {2013, "Lost connection to server during query", Code::kUnavailable,
       "(2013) Lost connection to server during query"},
      {1040, "Too many connections", Code::kUnavailable, "(1040) Too many connections"},
      {1053, "Server shutdown in progress", Code::kUnavailable,
       "(1053) Server shutdown in progress"},
      {1045, "Access denied for user 'root'@'localhost' (using password: YES)",
       Code::kFailedPrecondition,
       "(1045) Access denied for user 'root'@'localhost' (using password: YES)"},
      {1146, "Table 't.x' doesn't exist", Code::kFailedPrecondition,
       "(1146) Table 't.x' doesn't exist"},
      {1064,
       "You have an error in your SQL syntax; check the manual that corresponds to your "
       "MariaDB server version for the right syntax to use near 'MASTER_PASSWORD='hunter2'' "
       "at line 1",
       Code::kFailedPrecondition,
       "(1064) You have an error in your SQL syntax; check the manual that corresponds to your "
       "MariaDB server version for the right syntax to use (statement text omitted)"},
      {1105, "odd error mentioning s3cret twice: s3cret", Code::kFailedPrecondition,
       "(1105) odd error mentioning **** twice: ****"},
  };
  for (const Case& c : cases) {
    INFO(c.code);
    Status s = internal::ErrorToStatus(c.code, c.text, "s3cret");
    CHECK(s.code() == c.want);
    CHECK(s.message() == c.message);
  }
  CHECK(internal::ErrorToStatus(1105, "text", "").message() == "(1105) text");
}

}  // namespace
}  // namespace manage::mysql
