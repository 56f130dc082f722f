#include "backup/pipeline.h"

namespace manage::backup {

Result<std::unique_ptr<Encoder>> Encoder::Create(const Encoding& encoding, ByteSink* stored) {
  std::unique_ptr<Encoder> e(new Encoder());
  e->encoding_ = encoding;
  // Built from the store backwards: hash <- [encrypt] <- [zstd] <- count.
  auto hash = std::make_unique<HashingSink>(stored);
  e->hash_ = hash.get();
  ByteSink* next = hash.get();
  e->stages_.push_back(std::move(hash));
  if (encoding.key != nullptr) {
    auto enc = NewEncryptor(*encoding.key, next);
    if (!enc.ok()) return enc.status();
    next = enc->get();
    e->stages_.push_back(std::move(*enc));
  }
  if (encoding.zstd_level > 0) {
    auto zstd = NewZstdCompressor(encoding.zstd_level, encoding.zstd_threads, next);
    if (!zstd.ok()) return zstd.status();
    next = zstd->get();
    e->stages_.push_back(std::move(*zstd));
  }
  auto raw = std::make_unique<CountingSink>(next);
  e->raw_ = raw.get();
  e->head_ = raw.get();
  e->stages_.push_back(std::move(raw));
  return e;
}

void Encoder::Describe(BackupRecord* r) const {
  r->compression = encoding_.zstd_level > 0 ? kCompressionZstd : kCompressionNone;
  r->encryption = encoding_.key != nullptr ? kEncryptionAesGcm : kEncryptionNone;
  r->key_id = encoding_.key != nullptr ? encoding_.key->id : "";
  r->raw_size = raw_->bytes();
  r->size = hash_->bytes();
  r->sha256 = hash_->sha256();
}

Result<std::unique_ptr<Decoder>> Decoder::Create(const BackupRecord& record, const BackupKey* key,
                                                 ByteSink* raw) {
  const bool encrypted = record.encryption == kEncryptionAesGcm;
  if (encrypted && key == nullptr) {
    return Status::FailedPrecondition(
        "snapshot " + record.id + " is encrypted (key " + record.key_id +
        "): set SNAPSHOT_ENCRYPTION_KEY or SNAPSHOT_ENCRYPTION_KEY_FILE to that key");
  }
  if (encrypted && !record.key_id.empty() && key->id != record.key_id) {
    return Status::FailedPrecondition("snapshot " + record.id + " was encrypted with key " +
                                      record.key_id + ", and the configured key is " + key->id +
                                      " (SNAPSHOT_ENCRYPTION_KEY)");
  }
  std::unique_ptr<Decoder> d(new Decoder());
  d->record_ = record;
  // Built from the output backwards: [unzstd] <- [decrypt] <- hash.
  ByteSink* next = raw;
  if (record.compression == kCompressionZstd) {
    d->stages_.push_back(NewZstdDecompressor(next));
    next = d->stages_.back().get();
  }
  if (encrypted) {
    d->stages_.push_back(NewDecryptor(*key, next));
    next = d->stages_.back().get();
  }
  auto hash = std::make_unique<HashingSink>(next);
  d->hash_ = hash.get();
  d->head_ = hash.get();
  d->stages_.push_back(std::move(hash));
  return d;
}

Status Decoder::CheckRecord() const {
  if (!record_.sha256.empty() && hash_->sha256() != record_.sha256) {
    return Status::Internal("checksum mismatch: expected " + record_.sha256 + " got " +
                            hash_->sha256());
  }
  if (record_.size != 0 && hash_->bytes() != record_.size) {
    return Status::Internal("size mismatch: expected " + std::to_string(record_.size) + " got " +
                            std::to_string(hash_->bytes()));
  }
  return Status::Ok();
}

std::unique_ptr<ByteSink> SinkTo(sys::OutputSink out) {
  return std::make_unique<CallbackSink>(std::move(out));
}

}  // namespace manage::backup
