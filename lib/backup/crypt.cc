#include "backup/crypt.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>

namespace manage::backup {
namespace {

constexpr char kMagic[] = "MNGAEAD1";
constexpr size_t kMagicBytes = 8;
constexpr size_t kTagBytes = 16;
constexpr size_t kNonceBytes = 12;
constexpr size_t kKeyBytes = 32;
constexpr size_t kMaxFrameBytes = 16 * 1024 * 1024;
constexpr char kKeyIdContext[] = "manage snapshot key id";

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

Result<BackupKey> MakeKey(std::string bytes) {
  std::string material = std::string(kKeyIdContext, sizeof kKeyIdContext) + bytes;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(material.data(), material.size(), digest.data(), &len, EVP_sha256(), nullptr) !=
      1) {
    return Status::Internal("SHA-256 failed");
  }
  OPENSSL_cleanse(material.data(), material.size());
  return BackupKey{std::move(bytes), Hex({reinterpret_cast<const char*>(digest.data()), 8})};
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// `bytes` bytes from exactly twice as many hex digits.
std::optional<std::string> FromHex(std::string_view s, size_t bytes) {
  if (s.size() != 2 * bytes) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::string> FromBase64(std::string_view s) {
  if (s.size() != 44 || s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789+/=") != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out(33, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  // EVP_DecodeBlock counts the padding as output: 44 chars -> 33 bytes with one '='.
  if (n != 33 || s.back() != '=' || s[s.size() - 2] == '=') return std::nullopt;
  out.resize(kKeyBytes);
  return out;
}

// Encrypts or decrypts one frame. Out gets the result; false when the tag
// does not verify (decrypt) or OpenSSL failed.
bool SealFrame(bool encrypt, const std::string& key, const std::string& header, uint32_t index,
               bool last, std::string_view in, std::string_view tag_in, std::string* out,
               std::string* tag_out) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  std::string nonce = header.substr(kMagicBytes + 4 + 8, 8);
  PutU32(nonce, index);
  std::string aad = header;
  aad.push_back(last ? '\1' : '\0');
  auto* k = reinterpret_cast<const unsigned char*>(key.data());
  auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
  int ok = encrypt ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr)
                   : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr);
  ok = ok && (encrypt ? EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, k, iv)
                      : EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, k, iv));
  int len = 0;
  auto* a = reinterpret_cast<const unsigned char*>(aad.data());
  ok = ok &&
       (encrypt ? EVP_EncryptUpdate(ctx.get(), nullptr, &len, a, static_cast<int>(aad.size()))
                : EVP_DecryptUpdate(ctx.get(), nullptr, &len, a, static_cast<int>(aad.size())));
  out->resize(in.size() + 16);
  auto* o = reinterpret_cast<unsigned char*>(out->data());
  auto* i = reinterpret_cast<const unsigned char*>(in.data());
  ok = ok && (encrypt ? EVP_EncryptUpdate(ctx.get(), o, &len, i, static_cast<int>(in.size()))
                      : EVP_DecryptUpdate(ctx.get(), o, &len, i, static_cast<int>(in.size())));
  int total = len;
  if (!encrypt && ok) {
    std::string tag(tag_in);
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data());
  }
  ok = ok && (encrypt ? EVP_EncryptFinal_ex(ctx.get(), o + total, &len)
                      : EVP_DecryptFinal_ex(ctx.get(), o + total, &len));
  if (!ok) return false;
  out->resize(static_cast<size_t>(total + len));
  if (encrypt) {
    tag_out->resize(kTagBytes);
    return EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag_out->data()) == 1;
  }
  return true;
}

class Encryptor final : public ByteSink {
 public:
  Encryptor(const BackupKey& key, ByteSink* next, size_t frame_bytes)
      : key_(key.bytes), next_(next), frame_bytes_(frame_bytes) {}

  Status Init(const BackupKey& key) {
    if (key_.size() != kKeyBytes) return Status::InvalidArgument("the key must be 32 bytes");
    header_.assign(kMagic, kMagicBytes);
    PutU32(header_, static_cast<uint32_t>(frame_bytes_));
    std::optional<std::string> id = FromHex(key.id, 8);
    if (!id) return Status::InvalidArgument("bad key id");
    header_ += *id;
    std::string prefix(8, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(prefix.data()), 8) != 1) {
      return Status::Internal("RAND_bytes failed");
    }
    header_ += prefix;
    return Status::Ok();
  }

  Status Write(std::string_view data) override {
    if (!header_sent_) {
      MANAGE_RETURN_IF_ERROR(next_->Write(header_));
      header_sent_ = true;
    }
    while (!data.empty()) {
      size_t take = std::min(frame_bytes_ - plain_.size(), data.size());
      plain_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (plain_.size() == frame_bytes_) MANAGE_RETURN_IF_ERROR(Emit(false));
    }
    return Status::Ok();
  }

  Status Close() override {
    if (!header_sent_) MANAGE_RETURN_IF_ERROR(next_->Write(header_));
    header_sent_ = true;
    MANAGE_RETURN_IF_ERROR(Emit(true));
    return next_->Close();
  }

 private:
  Status Emit(bool last) {
    std::string frame;
    PutU32(frame, static_cast<uint32_t>(plain_.size()));
    if (!SealFrame(true, key_, header_, index_++, last, plain_, {}, &cipher_, &tag_)) {
      return Status::Internal("AES-256-GCM encryption failed");
    }
    plain_.clear();
    frame += cipher_;
    frame += tag_;
    return next_->Write(frame);
  }

  std::string key_;
  ByteSink* next_;
  size_t frame_bytes_;
  std::string header_;
  bool header_sent_ = false;
  std::string plain_, cipher_, tag_;
  uint32_t index_ = 0;
};

class Decryptor final : public ByteSink {
 public:
  Decryptor(const BackupKey& key, ByteSink* next) : key_(key), next_(next) {}

  Status Write(std::string_view data) override {
    buf_.append(data);
    if (header_.empty()) {
      if (buf_.size() < kCryptHeaderBytes) return Status::Ok();
      MANAGE_RETURN_IF_ERROR(ReadHeader());
    }
    for (;;) {
      if (buf_.size() - pos_ < 4) break;
      const size_t len = GetU32(std::string_view(buf_).substr(pos_, 4));
      if (len > frame_bytes_) return Corrupt("a frame is larger than the stream's frame size");
      if (buf_.size() - pos_ < 4 + len + kTagBytes) break;
      if (last_seen_) return Corrupt("data follows the last frame");
      MANAGE_RETURN_IF_ERROR(OpenFrame(std::string_view(buf_).substr(pos_ + 4, len),
                                       std::string_view(buf_).substr(pos_ + 4 + len, kTagBytes)));
      pos_ += 4 + len + kTagBytes;
    }
    buf_.erase(0, pos_);  // keeps at most one partial frame
    pos_ = 0;
    return Status::Ok();
  }

  Status Close() override {
    if (!last_seen_ || !buf_.empty()) return Corrupt("the stream is cut short");
    return next_->Close();
  }

 private:
  Status ReadHeader() {
    if (buf_.compare(0, kMagicBytes, kMagic) != 0) {
      return Status::Internal("not an encrypted snapshot (no MNGAEAD1 header)");
    }
    frame_bytes_ = GetU32(std::string_view(buf_).substr(kMagicBytes, 4));
    if (frame_bytes_ == 0 || frame_bytes_ > kMaxFrameBytes) return Corrupt("bad frame size");
    std::string id = Hex(std::string_view(buf_).substr(kMagicBytes + 4, 8));
    if (id != key_.id) {
      return Status::FailedPrecondition("the snapshot was encrypted with key " + id +
                                        ", and the configured key is " + key_.id +
                                        " (SNAPSHOT_ENCRYPTION_KEY)");
    }
    header_ = buf_.substr(0, kCryptHeaderBytes);
    pos_ = kCryptHeaderBytes;
    return Status::Ok();
  }

  // A frame verifies either as an inner frame or as the last one.
  Status OpenFrame(std::string_view cipher, std::string_view tag) {
    if (!SealFrame(false, key_.bytes, header_, index_, false, cipher, tag, &plain_, nullptr)) {
      if (!SealFrame(false, key_.bytes, header_, index_, true, cipher, tag, &plain_, nullptr)) {
        return Corrupt("frame " + std::to_string(index_) + " does not verify");
      }
      last_seen_ = true;
    }
    ++index_;
    return plain_.empty() ? Status::Ok() : next_->Write(plain_);
  }

  Status Corrupt(const std::string& why) {
    return Status::Internal("snapshot is corrupt or was tampered with: " + why);
  }

  BackupKey key_;
  ByteSink* next_;
  std::string buf_, header_, plain_;
  size_t pos_ = 0;
  size_t frame_bytes_ = 0;
  uint32_t index_ = 0;
  bool last_seen_ = false;
};

}  // namespace

Result<BackupKey> ParseBackupKey(std::string_view text) {
  text = TrimSpace(text);
  std::optional<std::string> bytes = FromHex(text, kKeyBytes);
  if (!bytes) bytes = FromBase64(text);
  if (!bytes) {
    return Status::InvalidArgument(
        "must be 64 hex digits or the base64 of 32 bytes (openssl rand -base64 32)");
  }
  return MakeKey(std::move(*bytes));
}

Result<BackupKey> ParseBackupKeyFile(std::string_view content) {
  // Text keys are 44 or 64 characters: 32 bytes can only be the raw key.
  if (content.size() == kKeyBytes) return MakeKey(std::string(content));
  return ParseBackupKey(content);
}

Result<std::unique_ptr<ByteSink>> NewEncryptor(const BackupKey& key, ByteSink* next,
                                               size_t frame_bytes) {
  if (frame_bytes == 0 || frame_bytes > kMaxFrameBytes) {
    return Status::InvalidArgument("bad encryption frame size");
  }
  auto e = std::make_unique<Encryptor>(key, next, frame_bytes);
  MANAGE_RETURN_IF_ERROR(e->Init(key));
  return std::unique_ptr<ByteSink>(std::move(e));
}

std::unique_ptr<ByteSink> NewDecryptor(const BackupKey& key, ByteSink* next) {
  return std::make_unique<Decryptor>(key, next);
}

}  // namespace manage::backup
