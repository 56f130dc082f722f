// Account passwords: the hash MariaDB stores for mysql_native_password, sent
// instead of the password so that no statement in a binlog (which every
// replica, the replication user and the snapshot store can read) holds one;
// and random passwords. The hash still lets nobody log in without the
// password, but it is sensitive: never log it. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::mysql {

// "*" and the upper-case hex of SHA1(SHA1(password)), as PASSWORD() returns
// it ("" for an empty password). Internal when OpenSSL fails.
Result<std::string> NativePasswordHash(std::string_view password);

// Letters and digits that cannot be misread (no I, O, l, 0, 1).
inline constexpr std::string_view kPasswordAlphabet =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

// The password `random` bytes make, one letter per byte; bytes at or above the
// largest multiple of the alphabet's size are skipped, so that every letter is
// equally likely (no modulo bias). Stops at `length` letters.
std::string PasswordFromBytes(std::string_view random, size_t length);

// `length` letters from OpenSSL's RAND_bytes. Internal when it fails.
Result<std::string> RandomPassword(size_t length);

}  // namespace manage::mysql
