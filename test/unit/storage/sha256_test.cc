#include "storage/sha256.h"

#include <catch2/catch.hpp>

namespace manage::storage {
namespace {

TEST_CASE("Sha256Hex matches the FIPS 180-2 test vectors") {
  auto [input, want] = GENERATE(table<std::string, std::string>({
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  }));
  Result<std::string> got = Sha256Hex(input);
  REQUIRE(got.ok());
  CHECK(*got == want);
}

TEST_CASE("Sha256 gives the same digest however the input is chunked") {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7 % 251);
  size_t chunk = GENERATE(1, 63, 64, 65, 4096, 100000);
  Sha256 hash;
  for (size_t pos = 0; pos < data.size(); pos += chunk) {
    hash.Update(std::string_view(data).substr(pos, chunk));
  }
  CHECK(*hash.Finish() == *Sha256Hex(data));
}

TEST_CASE("Sha256 can be finished only once") {
  Sha256 hash;
  hash.Update("abc");
  CHECK(hash.Finish().ok());
  CHECK(hash.Finish().status().code() == Code::kInternal);
}

}  // namespace
}  // namespace manage::storage
