// The test-only SSH keys in test/data/manta-keys (see its README.md).
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace manage::storage {

inline std::string MantaTestKey(const std::string& name) {
  std::ifstream in(std::string(MANAGE_TEST_DATA_DIR) + "/manta-keys/" + name);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE(!text.str().empty());
  return text.str();
}

}  // namespace manage::storage
