#include "storage/manta_auth.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "fakes/fake_clock.h"
#include "manta_test_keys.h"

// Keys generated once with ssh-keygen (test/data/manta-keys/README.md);
// fingerprints from `ssh-keygen -l -E md5`, RSA signatures from
// `openssl dgst -sha256 -sign rsa.pkcs1.pem`.
namespace manage::storage {
namespace {

std::string KeyFile(const std::string& name) { return MantaTestKey(name); }

constexpr char kRsaFingerprint[] = "dc:42:88:46:f0:c1:f2:08:5c:ca:b7:1c:aa:67:b1:86";
constexpr char kDate[] = "Thu, 01 Jan 2026 00:00:00 GMT";
// openssl dgst -sha256 -sign rsa.pkcs1.pem <<< "date: $kDate" (no newline) | base64
constexpr char kRsaSignature[] =
    "f/5JoZIWWEV0Uk1XlkBg2lWH5eO+Eg3SN4lcJSOr+pU5b9f7ajUUOCvyPQf4I2DvHCJ1Dpnvw0gVWBEbyjrmvsmMsA21"
    "UmLsaLWF/mL5TAhHVyE9/fVEe7szafnCeky0VRUhPFXZr6bINUfwFxfZUEjkoybZZKYtFrpZCc4FX5k9ukxApq7K7Fyr"
    "O+yWj0hTEqURoEXvtEChqGEMs64PKzQT4tAxWMl02VktYyrChwDs2NwxLecE7g1td+FZq6NsUxe+9DZ+pI7Uj7rLsFno"
    "HkkKQU+j4ftgZ1qTQJahaCeCqumw3YCBBs7Y5oF54aZKSu7cibS/+7GdbCr1Fw3sKA==";
constexpr char kLeapDate[] = "Tue, 29 Feb 2028 23:59:59 GMT";
constexpr char kRsaLeapSignature[] =
    "EOVWTzVZG9B51K9Z2pVwpeNNl1OWapCgq1fZv6U+61moZLnrHnCi8FIx6NBxvsKabUtObR/Ufak+YgTIrU0svn2ZAP9g"
    "xLQs76o9ffRbLFt0UFgbN42jaBVQsjUoLzPP205wZabQ6L8dcAwIcXePCv3mH1tEZRkgXG6a9C2jAr0JkbmFV8ngo06z"
    "ssXYJtdMYlKKy0FUZPi71HIIabV7BMVKTcYyrpNrdkPrCyyElgS0J/repiF42sMkWtJv9EnYNMCcXLYaPF03aytopmHF"
    "JYsa4663StSovNqvrjPkvBtCm2VHP3VtnZIrVAuGMPcQ3cLRsO0aAeEMijPJE2IZYQ==";

// The base64 blob of an authorized_keys line ("type blob comment").
std::string PublicBlobOf(const std::string& pub_line) {
  std::istringstream fields(pub_line);
  std::string type, blob;
  fields >> type >> blob;
  auto decoded = Base64Decode(blob);
  REQUIRE(decoded.ok());
  return *decoded;
}

// Verifies `signature_b64` over `data` with the PEM public key `pub_pem`,
// through OpenSSL directly (not through the code under test).
bool OpenSslVerifies(const std::string& pub_pem, const std::string& digest, const std::string& data,
                     const std::string& signature_b64) {
  auto sig = Base64Decode(signature_b64);
  REQUIRE(sig.ok());
  BIO* bio = BIO_new_mem_buf(pub_pem.data(), static_cast<int>(pub_pem.size()));
  EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(pub != nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit_ex(ctx, nullptr, digest.c_str(), nullptr, nullptr, pub, nullptr) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
  return ok;
}

TEST_CASE("Manta keys in PEM and OpenSSH formats: fingerprint, algorithm, public key") {
  struct Row {
    std::string file, pub, fingerprint, algorithm;
  };
  const Row rows[] = {
      {"rsa", "rsa.pub", kRsaFingerprint, "rsa-sha256"},
      {"rsa.pkcs1.pem", "rsa.pub", kRsaFingerprint, "rsa-sha256"},
      {"rsa.pkcs8.pem", "rsa.pub", kRsaFingerprint, "rsa-sha256"},
      {"other-rsa", "other-rsa.pub", "0e:13:fa:08:a7:a9:ef:e3:98:52:81:73:67:c8:65:ce",
       "rsa-sha256"},
      {"ecdsa256", "ecdsa256.pub", "58:3c:af:fe:59:1f:7a:78:db:7b:0d:15:ed:00:e4:81",
       "ecdsa-sha256"},
      {"ecdsa256.sec1.pem", "ecdsa256.pub", "58:3c:af:fe:59:1f:7a:78:db:7b:0d:15:ed:00:e4:81",
       "ecdsa-sha256"},
      // SHA-512: Manta's verifier (node-http-signature) has no SHA-384.
      {"ecdsa384", "ecdsa384.pub", "b1:b0:c5:34:7d:65:58:20:63:d7:d4:b1:49:7b:ce:23",
       "ecdsa-sha512"},
      {"ecdsa384.pkcs8.pem", "ecdsa384.pub", "b1:b0:c5:34:7d:65:58:20:63:d7:d4:b1:49:7b:ce:23",
       "ecdsa-sha512"},
      {"ecdsa521", "ecdsa521.pub", "b3:b7:0f:bd:dc:a4:27:8d:c2:56:3d:64:20:34:b3:e1",
       "ecdsa-sha512"},
      {"ecdsa521.sec1.pem", "ecdsa521.pub", "b3:b7:0f:bd:dc:a4:27:8d:c2:56:3d:64:20:34:b3:e1",
       "ecdsa-sha512"},
  };
  for (const Row& row : rows) {
    INFO(row.file);
    auto key = MantaKey::Parse(KeyFile(row.file));
    REQUIRE(key.ok());
    CHECK(key->fingerprint() == row.fingerprint);
    CHECK(key->algorithm() == row.algorithm);
    CHECK(key->public_blob() == PublicBlobOf(KeyFile(row.pub)));
  }
}

TEST_CASE("RSA signatures are openssl dgst -sha256 -sign's, whatever the key's format") {
  struct Row {
    std::string date, signature;
  };
  const Row rows[] = {{kDate, kRsaSignature}, {kLeapDate, kRsaLeapSignature}};
  for (const char* file : {"rsa", "rsa.pkcs1.pem", "rsa.pkcs8.pem"}) {
    auto key = MantaKey::Parse(KeyFile(file));
    REQUIRE(key.ok());
    for (const Row& row : rows) {
      INFO(file << " " << row.date);
      auto authz = MantaAuthorization(*key, "/acct/keys/" + key->fingerprint(), row.date);
      REQUIRE(authz.ok());
      CHECK(*authz == "Signature keyId=\"/acct/keys/" + std::string(kRsaFingerprint) +
                          "\",algorithm=\"rsa-sha256\",headers=\"date\",signature=\"" +
                          row.signature + "\"");
    }
  }
}

TEST_CASE("ECDSA signatures are DER sequences that OpenSSL verifies with the right hash") {
  struct Row {
    std::string file, pub_pem, digest;
  };
  const Row rows[] = {
      {"ecdsa256", "ecdsa256.pub.pem", "SHA256"},
      {"ecdsa256.sec1.pem", "ecdsa256.pub.pem", "SHA256"},
      {"ecdsa384", "ecdsa384.pub.pem", "SHA512"},
      {"ecdsa384.pkcs8.pem", "ecdsa384.pub.pem", "SHA512"},
      {"ecdsa521", "ecdsa521.pub.pem", "SHA512"},
      {"ecdsa521.sec1.pem", "ecdsa521.pub.pem", "SHA512"},
      {"rsa", "rsa.pub.pem", "SHA256"},
  };
  const std::string data = std::string("date: ") + kDate;
  for (const Row& row : rows) {
    INFO(row.file);
    auto key = MantaKey::Parse(KeyFile(row.file));
    REQUIRE(key.ok());
    auto sig = key->Sign(data);
    REQUIRE(sig.ok());
    CHECK(OpenSslVerifies(KeyFile(row.pub_pem), row.digest, data, *sig));
    CHECK_FALSE(OpenSslVerifies(KeyFile(row.pub_pem), row.digest, data + " ", *sig));
    if (row.file.starts_with("ecdsa")) {
      auto der = Base64Decode(*sig);
      REQUIRE(der.ok());
      CHECK(static_cast<unsigned char>((*der)[0]) == 0x30);  // ASN.1 SEQUENCE
    }
  }
}

TEST_CASE("keys Manta cannot use are refused with a clear message that never quotes them") {
  struct Row {
    std::string name, text, message;
  };
  std::string rsa = KeyFile("rsa");
  std::string truncated = rsa.substr(0, rsa.size() / 2) + "\n-----END OPENSSH PRIVATE KEY-----\n";
  std::string flipped = rsa;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  const Row rows[] = {
      {"OpenSSH with a passphrase", KeyFile("rsa.encrypted"), "passphrase"},
      {"traditional PEM with a passphrase", KeyFile("rsa.encrypted.pem"), "passphrase"},
      {"encrypted PKCS#8", KeyFile("rsa.encrypted.pkcs8.pem"), "passphrase"},
      {"ed25519", KeyFile("ed25519"), "Manta accepts RSA and ECDSA keys"},
      {"a public key", KeyFile("rsa.pub"), "not a PEM or OpenSSH private key"},
      {"a public PEM key", KeyFile("rsa.pub.pem"), "not a private key"},
      {"empty", "  \n", "empty"},
      {"truncated OpenSSH", truncated, "not a valid OpenSSH private key"},
      {"OpenSSH with a changed byte", flipped, "not a valid OpenSSH private key"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto key = MantaKey::Parse(row.text);
    REQUIRE_FALSE(key.ok());
    CHECK(key.status().code() == Code::kInvalidArgument);
    CHECK_THAT(key.status().message(), Catch::Contains("MANTA_PRIVATE_KEY"));
    CHECK_THAT(key.status().message(), Catch::Contains(row.message));
    // No line of the key's body appears in the message.
    std::istringstream lines(row.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.size() > 20 && !line.starts_with("-----")) {
        CHECK(key.status().message().find(line.substr(0, 20)) == std::string::npos);
      }
    }
  }
}

TEST_CASE("the signer: keyId of an account or a sub-user, MANTA_KEY_ID checked, Role sent") {
  MantaSettings s;
  s.user = "acct";
  s.private_key = UnfoldPrivateKey([] {
    std::string folded = KeyFile("rsa");
    for (char& c : folded) c = c == '\n' ? '#' : c;  // as env files carry it
    return folded;
  }());
  sys::FakeClock clock;  // 2026-01-01T00:00:00Z

  SECTION("account key, no role") {
    auto signer = MantaSigner::Create(s);
    REQUIRE(signer.ok());
    CHECK(signer->key_id() == "/acct/keys/" + std::string(kRsaFingerprint));
    auto headers = signer->Headers(clock.Now());
    REQUIRE(headers.ok());
    REQUIRE(headers->size() == 2);
    CHECK((*headers)[0] == std::pair<std::string, std::string>("Date", kDate));
    CHECK((*headers)[1].first == "Authorization");
    CHECK_THAT((*headers)[1].second, Catch::EndsWith(std::string(kRsaSignature) + "\""));
  }
  SECTION("sub-user with a role and a matching MANTA_KEY_ID") {
    s.subuser = "backup";
    s.role = "snapshots,readers";
    s.key_id = kRsaFingerprint;
    auto signer = MantaSigner::Create(s);
    REQUIRE(signer.ok());
    CHECK(signer->key_id() == "/acct/backup/keys/" + std::string(kRsaFingerprint));
    auto headers = signer->Headers(clock.Now());
    REQUIRE(headers.ok());
    REQUIRE(headers->size() == 3);
    CHECK_THAT((*headers)[1].second,
               Catch::StartsWith("Signature keyId=\"/acct/backup/keys/dc:42:"));
    CHECK((*headers)[2] == std::pair<std::string, std::string>("Role", "snapshots,readers"));
  }
  SECTION("MANTA_KEY_ID of another key: both fingerprints named") {
    s.key_id = "0e:13:fa:08:a7:a9:ef:e3:98:52:81:73:67:c8:65:ce";
    auto signer = MantaSigner::Create(s);
    REQUIRE_FALSE(signer.ok());
    CHECK(signer.status().code() == Code::kInvalidArgument);
    CHECK_THAT(signer.status().message(), Catch::Contains("MANTA_KEY_ID " + s.key_id));
    CHECK_THAT(signer.status().message(), Catch::Contains(kRsaFingerprint));
  }
}

TEST_CASE("HttpDate is RFC 7231's fixed English form in UTC") {
  using namespace std::chrono;
  struct Row {
    sys_seconds t;
    std::string text;
  };
  const Row rows[] = {
      {sys_days{year{1970} / 1 / 1}, "Thu, 01 Jan 1970 00:00:00 GMT"},
      {sys_days{year{2026} / 1 / 1}, kDate},
      {sys_days{year{2028} / 2 / 29} + hours(23) + minutes(59) + seconds(59), kLeapDate},
      {sys_days{year{2031} / 12 / 7} + hours(9) + minutes(5) + seconds(3),
       "Sun, 07 Dec 2031 09:05:03 GMT"},
  };
  for (const Row& row : rows) CHECK(HttpDate(row.t) == row.text);
}

TEST_CASE("base64 round trips and rejects what is not base64") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = Base64Decode(Base64Encode(s));
    REQUIRE(back.ok());
    CHECK(*back == s);
  }
  CHECK(Base64Encode("foobar") == "Zm9vYmFy");
  CHECK(*Base64Decode("Zm9v\nYmE=") == "fooba");
  for (const char* bad : {"Zm9", "Zm9v!", "Zg=a", "Z==="}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad).ok());
  }
}

}  // namespace
}  // namespace manage::storage
