// Sha256: incremental SHA-256 over a stream of chunks (OpenSSL EVP), giving the
// lowercase hex digest that backup records carry. Move-only; not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace manage::storage {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // The 64-character hex digest of everything passed to Update. Internal if
  // OpenSSL failed at any step. REQUIRES: called once; no Update afterwards.
  Result<std::string> Finish();

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
  bool ok_ = false;
};

// SHA-256 of `data` as hex, for small inputs and tests.
Result<std::string> Sha256Hex(std::string_view data);

}  // namespace manage::storage
