#include "mysql/password.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace manage::mysql {
namespace {

// The one place where an OpenSSL failure here becomes a Status.
Status CryptoError(const char* what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return Status::Internal(std::string(what) + ": " + buf);
}

Result<std::string> Sha1(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha1(), nullptr) != 1) {
    return CryptoError("SHA1");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

Result<std::string> NativePasswordHash(std::string_view password) {
  if (password.empty()) return std::string();  // as PASSWORD(''): no password
  auto once = Sha1(password);
  if (!once.ok()) return once.status();
  auto twice = Sha1(*once);
  if (!twice.ok()) return twice.status();
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "*";
  for (unsigned char c : *twice) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

std::string PasswordFromBytes(std::string_view random, size_t length) {
  const size_t n = kPasswordAlphabet.size();
  const size_t limit = 256 / n * n;  // bytes below it map evenly onto the alphabet
  std::string out;
  for (unsigned char b : random) {
    if (out.size() == length) break;
    if (b < limit) out += kPasswordAlphabet[b % n];
  }
  return out;
}

Result<std::string> RandomPassword(size_t length) {
  std::string out;
  while (out.size() < length) {
    unsigned char bytes[64];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return CryptoError("RAND_bytes");
    out += PasswordFromBytes(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes),
                             length - out.size());
  }
  return out;
}

}  // namespace manage::mysql
