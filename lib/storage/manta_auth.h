// Manta's request authentication: Joyent's HTTP Signature scheme, as
// node-http-signature and smartdc-auth (node-manta's signer) produce it. An
// SSH key pair identifies the account or sub-user; every request carries a
// Date header and an Authorization header signing "date: <Date>":
//   Signature keyId="/<user>[/<subuser>]/keys/<md5 fingerprint>",
//             algorithm="rsa-sha256",headers="date",signature="<base64>"
// RSA signs PKCS#1 v1.5 with SHA-256; ECDSA sends the DER SEQUENCE{r, s}
// (sshpk's "asn1" form), hashed with SHA-256 for nistp256 and SHA-512 for
// nistp384 and nistp521 (Manta's verifier has no SHA-384: manta_auth.cc). MANTA_ROLE travels in an
// unsigned "Role" header, as node-manta sends it. Parsing and signing are pure
// apart from OpenSSL; a MantaSigner is immutable and safe to share between
// threads. Nothing here ever puts key material into a message.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "storage/settings.h"
#include "storage/ssh_key.h"

namespace manage::storage {

// An unencrypted RSA or ECDSA (nistp256/384/521) private key.
class MantaKey {
 public:
  // Reads PEM (PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", PKCS#8
  // "PRIVATE KEY") or OpenSSH ("OPENSSH PRIVATE KEY", openssh-key-v1).
  // InvalidArgument naming MANTA_PRIVATE_KEY and what is wrong (never quoting
  // the key): not a key, protected by a passphrase, a type Manta does not
  // accept, corrupt.
  static Result<MantaKey> Parse(std::string_view text);

  // The public key in SSH wire format (RFC 4253 / RFC 5656): what
  // fingerprints hash and what an authorized_keys line holds in base64.
  const std::string& public_blob() const { return public_blob_; }
  // "aa:bb:...:ff", the MD5 fingerprint `ssh-keygen -l -E md5` shows.
  const std::string& fingerprint() const { return fingerprint_; }
  // "rsa-sha256", "ecdsa-sha256" (nistp256) or "ecdsa-sha512" (nistp384, 521).
  const std::string& algorithm() const { return algorithm_; }
  // The base64 signature of `data` (see the file comment for its form).
  Result<std::string> Sign(std::string_view data) const;

 private:
  MantaKey() = default;

  UniquePkey pkey_;
  std::string public_blob_;
  std::string fingerprint_;
  std::string algorithm_;
  std::string digest_;  // OpenSSL name of the hash: SHA256, SHA384, SHA512
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Signs requests for one identity (MANTA_USER, MANTA_SUBUSER, MANTA_ROLE and
// the key).
class MantaSigner {
 public:
  // Parses MANTA_PRIVATE_KEY and, when MANTA_KEY_ID is set, checks that it is
  // the key's fingerprint. InvalidArgument naming the variable.
  static Result<MantaSigner> Create(const MantaSettings& settings);

  // "/user/keys/fp" or "/user/subuser/keys/fp" (smartdc-auth's Manta form).
  const std::string& key_id() const { return key_id_; }
  const MantaKey& key() const { return key_; }
  // Date, Authorization and, with a role, Role: the headers that
  // authenticate a request sent at `now`.
  Result<HttpHeaders> Headers(std::chrono::system_clock::time_point now) const;

 private:
  MantaSigner(MantaKey key, std::string key_id, std::string role)
      : key_(std::move(key)), key_id_(std::move(key_id)), role_(std::move(role)) {}
  MantaKey key_;
  std::string key_id_;
  std::string role_;
};

// keyId of `user` (and `subuser`, when not empty) for a key `fingerprint`.
std::string MantaKeyId(const std::string& user, const std::string& subuser,
                       const std::string& fingerprint);

// The Authorization header value for a request whose Date header is `date`.
Result<std::string> MantaAuthorization(const MantaKey& key, const std::string& key_id,
                                       const std::string& date);

// RFC 7231 IMF-fixdate, always in English: "Thu, 01 Jan 2026 00:00:00 GMT".
std::string HttpDate(std::chrono::system_clock::time_point t);

}  // namespace manage::storage
