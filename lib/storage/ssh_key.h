// SSH private keys in OpenSSL: reading them from PEM (PKCS#1, SEC1, PKCS#8)
// or OpenSSH's own format (openssh-key-v1, unencrypted), and the public key's
// SSH wire encoding (RFC 4253, RFC 5656) with its MD5 fingerprint. Only the
// key types Manta accepts are read: RSA and ECDSA on nistp256/384/521. Pure
// apart from OpenSSL; no message ever quotes key material.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct evp_pkey_st;

namespace manage::storage {

struct EvpPkeyFree {
  void operator()(evp_pkey_st* key) const;
};
using UniquePkey = std::unique_ptr<evp_pkey_st, EvpPkeyFree>;

// The one place an OpenSSL failure becomes a Status: `what` plus OpenSSL's
// queued reasons (library and reason names, never data). InvalidArgument or
// Internal, as `code` says.
Status OpenSslFailure(Code code, const std::string& what);

// Reads a private key in PEM or OpenSSH format. InvalidArgument saying what
// is wrong: not a key, protected by a passphrase (refused: nobody can type
// it), corrupt.
Result<UniquePkey> ReadPrivateKey(std::string_view text);

struct SshPublicKey {
  std::string type;  // "ssh-rsa" or "ecdsa-sha2-nistp256|384|521"
  std::string blob;  // the SSH wire encoding: what fingerprints hash
};
// The public half of `key` in SSH form; InvalidArgument for a key type or
// curve Manta does not accept.
Result<SshPublicKey> SshPublicKeyOf(evp_pkey_st* key);

// "aa:bb:...:ff", as `ssh-keygen -l -E md5` prints it (without "MD5:").
std::string Md5Fingerprint(std::string_view blob);

// Standard base64 with padding. Decoding skips white space and fails with
// InvalidArgument on any other character outside the alphabet or a bad length.
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace manage::storage
