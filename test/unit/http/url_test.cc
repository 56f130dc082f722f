#include <catch2/catch.hpp>
#include <string>

#include "http/transport.h"

namespace manage::http {
namespace {

TEST_CASE("UrlEncode escapes all but unreserved characters", "[http]") {
  struct Row {
    std::string in;
    bool keep_slash;
    std::string want;
  };
  const Row rows[] = {
      {"", false, ""},
      {"mysql-primary", false, "mysql-primary"},
      {"AZaz09-._~", false, "AZaz09-._~"},
      {"a/b", false, "a%2Fb"},
      {"a/b", true, "a/b"},
      {"service/mysql/leader key", true, "service/mysql/leader%20key"},
      {"k?cas=1&x=#", true, "k%3Fcas%3D1%26x%3D%23"},
      {"+%:@", false, "%2B%25%3A%40"},
      {"\xC3\xA9", false, "%C3%A9"},
      {std::string("a\0b", 3), false, "a%00b"},
  };
  for (const Row& row : rows) {
    INFO("in=" << row.in << " keep_slash=" << row.keep_slash);
    CHECK(UrlEncode(row.in, row.keep_slash) == row.want);
  }
}

}  // namespace
}  // namespace manage::http
