#include "storage/manta_auth.h"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>

namespace manage::storage {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// The hash for each key: sshpk's default (what smartdc-auth signs with), but
// for nistp384 SHA-512 instead of sshpk's SHA-384, which Manta refuses: its
// web tier verifies with node-http-signature, whose hashes are SHA-1,
// SHA-256 and SHA-512 only ("SHA384 is not a supported hash algorithm").
struct Algorithm {
  const char* ssh_type;
  const char* name;
  const char* digest;
};
constexpr Algorithm kAlgorithms[] = {
    {"ssh-rsa", "rsa-sha256", "SHA256"},
    {"ecdsa-sha2-nistp256", "ecdsa-sha256", "SHA256"},
    {"ecdsa-sha2-nistp384", "ecdsa-sha512", "SHA512"},
    {"ecdsa-sha2-nistp521", "ecdsa-sha512", "SHA512"},
};

}  // namespace

Result<MantaKey> MantaKey::Parse(std::string_view text) {
  auto pkey = ReadPrivateKey(text);
  if (!pkey.ok()) return pkey.status().Annotate("MANTA_PRIVATE_KEY");
  auto pub = SshPublicKeyOf(pkey->get());
  if (!pub.ok()) return pub.status().Annotate("MANTA_PRIVATE_KEY");
  MantaKey key;
  for (const Algorithm& a : kAlgorithms) {
    if (pub->type == a.ssh_type) {
      key.algorithm_ = a.name;
      key.digest_ = a.digest;
    }
  }
  if (key.algorithm_.empty()) return Status::Internal("no signing algorithm for " + pub->type);
  key.fingerprint_ = Md5Fingerprint(pub->blob);
  if (key.fingerprint_.empty()) return OpenSslFailure(Code::kInternal, "MD5 of the public key");
  key.public_blob_ = std::move(pub->blob);
  key.pkey_ = std::move(*pkey);
  return key;
}

Result<std::string> MantaKey::Sign(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, digest_.c_str(), nullptr, nullptr, pkey_.get(),
                            nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return OpenSslFailure(Code::kInternal, "signing the request");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    return OpenSslFailure(Code::kInternal, "signing the request");
  }
  sig.resize(len);
  return Base64Encode(sig);
}

Result<MantaSigner> MantaSigner::Create(const MantaSettings& settings) {
  auto key = MantaKey::Parse(settings.private_key);
  if (!key.ok()) return key.status();
  if (!settings.key_id.empty() && settings.key_id != key->fingerprint()) {
    return Status::InvalidArgument(
        "MANTA_KEY_ID " + settings.key_id +
        " is not the key in MANTA_PRIVATE_KEY, whose MD5 fingerprint is " + key->fingerprint());
  }
  std::string id = MantaKeyId(settings.user, settings.subuser, key->fingerprint());
  return MantaSigner(std::move(*key), std::move(id), settings.role);
}

Result<HttpHeaders> MantaSigner::Headers(std::chrono::system_clock::time_point now) const {
  std::string date = HttpDate(now);
  auto authorization = MantaAuthorization(key_, key_id_, date);
  if (!authorization.ok()) return authorization.status();
  HttpHeaders headers{{"Date", date}, {"Authorization", std::move(*authorization)}};
  if (!role_.empty()) headers.emplace_back("Role", role_);
  return headers;
}

std::string MantaKeyId(const std::string& user, const std::string& subuser,
                       const std::string& fingerprint) {
  return "/" + user + (subuser.empty() ? "" : "/" + subuser) + "/keys/" + fingerprint;
}

Result<std::string> MantaAuthorization(const MantaKey& key, const std::string& key_id,
                                       const std::string& date) {
  auto signature = key.Sign("date: " + date);
  if (!signature.ok()) return signature.status();
  return "Signature keyId=\"" + key_id + "\",algorithm=\"" + key.algorithm() +
         "\",headers=\"date\",signature=\"" + *signature + "\"";
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace manage::storage
