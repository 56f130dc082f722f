// Client-side encryption of snapshots: AES-256-GCM in framed chunks (OpenSSL),
// so that a stolen bucket does not hand over every row and password hash, and
// so that a tampered, truncated or reordered object is detected frame by
// frame before any of its bytes are passed on (and so before any reaches a
// datadir). Keys come from SNAPSHOT_ENCRYPTION_KEY or _FILE, never argv or logs.
//
// Format: a 28-byte header, then frames.
//   header: "MNGAEAD1" | frame size (u32 BE) | key id (8 bytes) | nonce prefix (8 random bytes)
//   frame:  ciphertext length L (u32 BE, <= frame size) | L bytes | 16-byte GCM tag
// Frame i's nonce is the prefix followed by i (u32 BE); its additional data is
// the header followed by one byte, 1 on the stream's last frame and 0 before,
// so a stream cut at a frame boundary fails as surely as one cut mid-frame.
// Every stream ends with a last frame, possibly empty. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "backup/stream.h"
#include "core/status.h"

namespace manage::backup {

struct BackupKey {
  std::string bytes;  // 32 bytes
  // 16 hex digits naming the key (a hash of it, not the key) in records, so a
  // restore with the wrong key fails with a clear message before reading data.
  std::string id;
};

// 64 hex digits, or the base64 of 32 bytes, surrounded by white space or
// not. InvalidArgument otherwise; the message never holds the text.
Result<BackupKey> ParseBackupKey(std::string_view text);
// A key file: that same text, or exactly 32 raw bytes.
Result<BackupKey> ParseBackupKeyFile(std::string_view content);

inline constexpr size_t kCryptHeaderBytes = 28;
inline constexpr size_t kDefaultFrameBytes = 256 * 1024;

// Encrypts the stream into `next`. Internal when OpenSSL fails.
Result<std::unique_ptr<ByteSink>> NewEncryptor(const BackupKey& key, ByteSink* next,
                                               size_t frame_bytes = kDefaultFrameBytes);
// Decrypts and authenticates; only verified plaintext reaches `next`.
// FailedPrecondition when the stream was written with another key (both ids
// named); Internal "snapshot is corrupt or was tampered with" when a frame does
// not verify, the stream is cut short or goes on after its last frame.
std::unique_ptr<ByteSink> NewDecryptor(const BackupKey& key, ByteSink* next);

}  // namespace manage::backup
