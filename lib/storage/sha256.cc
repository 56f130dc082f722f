#include "storage/sha256.h"

#include <openssl/evp.h>

namespace manage::storage {

void Sha256::CtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
}

void Sha256::Update(std::string_view data) {
  if (ok_ && !data.empty()) ok_ = EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1;
}

Result<std::string> Sha256::Finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) {
    ok_ = false;
    return Status::Internal("OpenSSL SHA-256 failed");
  }
  ok_ = false;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

Result<std::string> Sha256Hex(std::string_view data) {
  Sha256 hash;
  hash.Update(data);
  return hash.Finish();
}

}  // namespace manage::storage
