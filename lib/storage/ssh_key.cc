#include "storage/ssh_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <array>
#include <cctype>
#include <cstdint>

namespace manage::storage {
namespace {

constexpr std::string_view kOpenSshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpenSshEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpenSshMagic{"openssh-key-v1\0", 15};

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using UniqueBn = std::unique_ptr<BIGNUM, BnFree>;

// Manta's curves: OpenSSL's NID and group name, the SSH curve name.
struct Curve {
  int nid;
  const char* group;
  const char* ssh_name;
};
constexpr std::array<Curve, 3> kCurves = {{
    {NID_X9_62_prime256v1, "prime256v1", "nistp256"},
    {NID_secp384r1, "secp384r1", "nistp384"},
    {NID_secp521r1, "secp521r1", "nistp521"},
}};

Status Corrupt(const std::string& what) {
  return Status::InvalidArgument("not a valid OpenSSH private key (" + what + ")");
}

Status PassphraseProtected() {
  return Status::InvalidArgument(
      "the key is protected by a passphrase, which manage cannot ask for; give it an "
      "unencrypted copy of the key (ssh-keygen -p -N '' -f <copy>)");
}

// SSH wire encoding (RFC 4251 section 5).
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void PutString(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}
// A positive mpint: big-endian, no leading zeros, one 0x00 when the top bit is set.
void PutMpint(std::string& out, const BIGNUM* bn) {
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  if (!bytes.empty() && (static_cast<unsigned char>(bytes[0]) & 0x80) != 0)
    bytes.insert(0, 1, '\0');
  PutString(out, bytes);
}

// Reads SSH wire values from a buffer; every read fails once the data ends.
class SshReader {
 public:
  explicit SshReader(std::string_view data) : data_(data) {}
  bool U32(uint32_t* v) {
    if (data_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<unsigned char>(data_[i]);
    data_.remove_prefix(4);
    return true;
  }
  bool String(std::string_view* s) {
    uint32_t len = 0;
    if (!U32(&len) || data_.size() < len) return false;
    *s = data_.substr(0, len);
    data_.remove_prefix(len);
    return true;
  }
  bool Mpint(UniqueBn* bn) {
    std::string_view s;
    if (!String(&s) || (!s.empty() && (static_cast<unsigned char>(s[0]) & 0x80) != 0)) {
      return false;  // negative numbers are never part of a key
    }
    bn->reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()),
                        static_cast<int>(s.size()), nullptr));
    return *bn != nullptr;
  }
  std::string_view rest() const { return data_; }

 private:
  std::string_view data_;
};

// Builds an EVP_PKEY of `type` ("RSA", "EC") from the parameters in `bld`.
Result<UniquePkey> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return OpenSslFailure(Code::kInvalidArgument, "the OpenSSH key's numbers do not make a key");
  }
  UniquePkey key(pkey);
  // The private and public numbers must belong together.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
    return OpenSslFailure(Code::kInvalidArgument,
                          "not a valid OpenSSH private key (its numbers do not match)");
  }
  return key;
}

// OpenSSH's RSA private part: n, e, d, iqmp, p, q. OpenSSL also wants
// d mod (p-1) and d mod (q-1).
Result<UniquePkey> OpenSshRsa(SshReader& r) {
  UniqueBn n, e, d, iqmp, p, q;
  if (!r.Mpint(&n) || !r.Mpint(&e) || !r.Mpint(&d) || !r.Mpint(&iqmp) || !r.Mpint(&p) ||
      !r.Mpint(&q)) {
    return Corrupt("truncated RSA key");
  }
  std::unique_ptr<BN_CTX, BnCtxFree> bn_ctx(BN_CTX_new());
  UniqueBn p1(BN_dup(p.get())), q1(BN_dup(q.get())), dmp1(BN_new()), dmq1(BN_new());
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_ctx || !p1 || !q1 || !dmp1 || !dmq1 || !bld || BN_sub_word(p1.get(), 1) != 1 ||
      BN_sub_word(q1.get(), 1) != 1 || BN_mod(dmp1.get(), d.get(), p1.get(), bn_ctx.get()) != 1 ||
      BN_mod(dmq1.get(), d.get(), q1.get(), bn_ctx.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp.get()) != 1) {
    return OpenSslFailure(Code::kInternal, "building the RSA key");
  }
  return FromParams("RSA", bld.get());
}

// OpenSSH's ECDSA private part: curve name, public point Q, private d.
Result<UniquePkey> OpenSshEcdsa(SshReader& r, std::string_view type) {
  std::string_view curve_name, point;
  UniqueBn d;
  if (!r.String(&curve_name) || !r.String(&point) || !r.Mpint(&d)) {
    return Corrupt("truncated ECDSA key");
  }
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves) {
    if (curve_name == c.ssh_name && type == std::string("ecdsa-sha2-") + c.ssh_name) curve = &c;
  }
  if (curve == nullptr) {
    return Status::InvalidArgument("an ECDSA key on curve " + std::string(curve_name) +
                                   "; Manta accepts nistp256, nistp384 and nistp521");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return OpenSslFailure(Code::kInternal, "building the ECDSA key");
  }
  return FromParams("EC", bld.get());
}

// The private section: two equal check words, the key, a comment, padding.
Result<UniquePkey> OpenSshPrivate(std::string_view section, std::string_view public_blob) {
  SshReader r(section);
  uint32_t check1 = 0, check2 = 0;
  std::string_view type;
  if (!r.U32(&check1) || !r.U32(&check2) || check1 != check2 || !r.String(&type)) {
    return Corrupt("bad check words");
  }
  Result<UniquePkey> pkey = Status::Internal("unset");
  if (type == "ssh-rsa") {
    pkey = OpenSshRsa(r);
  } else if (type.starts_with("ecdsa-sha2-")) {
    pkey = OpenSshEcdsa(r, type);
  } else {
    return Status::InvalidArgument("a key of type " + std::string(type) +
                                   "; Manta accepts RSA and ECDSA keys");
  }
  if (!pkey.ok()) return pkey.status();
  // The public key stored beside the private one must be this key's.
  auto derived = SshPublicKeyOf(pkey->get());
  if (!derived.ok()) return derived.status();
  if (derived->blob != public_blob) return Corrupt("its public and private halves differ");
  return pkey;
}

Result<UniquePkey> ReadOpenSsh(std::string_view text) {
  size_t end = text.find(kOpenSshEnd);
  if (end == std::string_view::npos) return Corrupt("no END line");
  auto raw = Base64Decode(text.substr(kOpenSshBegin.size(), end - kOpenSshBegin.size()));
  if (!raw.ok()) return Corrupt(raw.status().message());
  std::string_view data = *raw;
  if (!data.starts_with(kOpenSshMagic)) return Corrupt("not openssh-key-v1");
  SshReader r(data.substr(kOpenSshMagic.size()));
  std::string_view cipher, kdf, kdf_options, public_blob, section;
  uint32_t count = 0;
  if (!r.String(&cipher) || !r.String(&kdf) || !r.String(&kdf_options) || !r.U32(&count)) {
    return Corrupt("truncated header");
  }
  if (cipher != "none" || kdf != "none") return PassphraseProtected();
  if (count != 1) return Corrupt("it holds " + std::to_string(count) + " keys, not one");
  if (!r.String(&public_blob) || !r.String(&section)) return Corrupt("truncated key");
  return OpenSshPrivate(section, public_blob);
}

// Declines every passphrase prompt and remembers that there was one.
int NoPassphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

Result<UniquePkey> ReadPem(std::string_view text) {
  if (text.find("ENCRYPTED") != std::string_view::npos) return PassphraseProtected();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return OpenSslFailure(Code::kInternal, "BIO_new_mem_buf");
  bool asked = false;
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, &asked);
  if (asked) {
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return PassphraseProtected();
  }
  if (pkey == nullptr) return OpenSslFailure(Code::kInvalidArgument, "not a private key");
  return UniquePkey(pkey);
}

Result<std::string> RsaBlob(const EVP_PKEY* pkey) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1;
  UniqueBn un(n), ue(e);
  if (!ok) return OpenSslFailure(Code::kInternal, "reading the RSA public key");
  std::string blob;
  PutString(blob, "ssh-rsa");
  PutMpint(blob, ue.get());
  PutMpint(blob, un.get());
  return blob;
}

Result<const Curve*> CurveOf(const EVP_PKEY* pkey) {
  char group[80] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    return OpenSslFailure(Code::kInvalidArgument, "an EC key without a named curve");
  }
  int nid = OBJ_sn2nid(group);
  if (nid == NID_undef) nid = EC_curve_nist2nid(group);
  for (const Curve& c : kCurves) {
    if (c.nid == nid) return &c;
  }
  return Status::InvalidArgument(std::string("an ECDSA key on curve ") + group +
                                 "; Manta accepts nistp256, nistp384 and nistp521");
}

Result<std::string> EcBlob(EVP_PKEY* pkey, const Curve& curve) {
  // SSH carries the point uncompressed (RFC 5656 section 3.1).
  if (EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     "uncompressed") != 1) {
    return OpenSslFailure(Code::kInternal, "setting the EC point format");
  }
  unsigned char point[1 + 2 * 66];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point,
                                      &len) != 1 ||
      len == 0 || point[0] != 0x04) {
    return OpenSslFailure(Code::kInternal, "reading the EC public key");
  }
  std::string blob;
  PutString(blob, std::string("ecdsa-sha2-") + curve.ssh_name);
  PutString(blob, curve.ssh_name);
  PutString(blob, std::string_view(reinterpret_cast<const char*>(point), len));
  return blob;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

void EvpPkeyFree::operator()(evp_pkey_st* key) const { EVP_PKEY_free(key); }

Status OpenSslFailure(Code code, const std::string& what) {
  std::string msg = what;
  const char* sep = ": ";
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    msg += sep;
    msg += buf;
    sep = "; ";
  }
  return code == Code::kInvalidArgument ? Status::InvalidArgument(msg) : Status::Internal(msg);
}

Result<UniquePkey> ReadPrivateKey(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return Status::InvalidArgument("empty");
  if (text.starts_with(kOpenSshBegin)) return ReadOpenSsh(text);
  if (!text.starts_with("-----BEGIN ")) {
    return Status::InvalidArgument(
        "not a PEM or OpenSSH private key (it does not start with '-----BEGIN')");
  }
  return ReadPem(text);
}

Result<SshPublicKey> SshPublicKeyOf(evp_pkey_st* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    auto blob = RsaBlob(key);
    if (!blob.ok()) return blob.status();
    return SshPublicKey{"ssh-rsa", std::move(*blob)};
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    auto curve = CurveOf(key);
    if (!curve.ok()) return curve.status();
    auto blob = EcBlob(key, **curve);
    if (!blob.ok()) return blob.status();
    return SshPublicKey{std::string("ecdsa-sha2-") + (*curve)->ssh_name, std::move(*blob)};
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return Status::InvalidArgument(std::string("a key of type ") +
                                 (name != nullptr ? name : "unknown") +
                                 "; Manta accepts RSA and ECDSA keys");
}

std::string Md5Fingerprint(std::string_view blob) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(blob.data(), blob.size(), digest, &len, EVP_md5(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  size_t symbols = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    ++symbols;
    if (c == '=') {
      ++pad;
      continue;
    }
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos || pad > 0) return Status::InvalidArgument("invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (symbols % 4 != 0 || pad > 2) return Status::InvalidArgument("invalid base64 length");
  return out;
}

}  // namespace manage::storage
