#include "mysql/password.h"

#include <catch2/catch.hpp>

namespace manage::mysql {
namespace {

TEST_CASE("NativePasswordHash is what PASSWORD() stores") {
  struct Row {
    const char* password;
    const char* hash;
  };
  // SELECT PASSWORD('...') on MariaDB 10.11.
  const Row rows[] = {
      {"app-Secret-1", "*2D3D1197BA18379E7D1C2094AE885F8FD49A17C3"},
      {"repl-Secret-2", "*53D95440B632BBC6053A502846C1955EB94A0926"},
      {"", ""},
  };
  for (const Row& r : rows) {
    CAPTURE(r.password);
    auto h = NativePasswordHash(r.password);
    REQUIRE(h.ok());
    CHECK(*h == r.hash);
  }
}

TEST_CASE("PasswordFromBytes skips the bytes that would bias the letters") {
  const size_t n = kPasswordAlphabet.size();  // 57: bytes 228..255 would favour 28 letters
  REQUIRE(n == 57);
  std::string bytes;
  for (int b : {0, 56, 57, 227, 228, 240, 255, 1}) bytes += static_cast<char>(b);
  std::string want = {kPasswordAlphabet[0], kPasswordAlphabet[56], kPasswordAlphabet[0],
                      kPasswordAlphabet[227 % 57], kPasswordAlphabet[1]};
  CHECK(PasswordFromBytes(bytes, 100) == want);
  CHECK(PasswordFromBytes(bytes, 2) == want.substr(0, 2));
  // Every letter comes from the same number of byte values.
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string once = PasswordFromBytes(all, 1000);
  CHECK(once.size() == 228);
  for (char letter : kPasswordAlphabet) {
    CHECK(std::count(once.begin(), once.end(), letter) == 4);
  }
}

TEST_CASE("RandomPassword has the length asked for, from the alphabet") {
  auto p = RandomPassword(24);
  REQUIRE(p.ok());
  CHECK(p->size() == 24);
  CHECK(p->find_first_not_of(kPasswordAlphabet) == std::string::npos);
}

}  // namespace
}  // namespace manage::mysql
