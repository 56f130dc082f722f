#include "backup/stream.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <thread>

#include "backup/crypt.h"
#include "backup/xbstream.h"

namespace manage::backup {

// An xbstream with one file per (path, content): payload chunks of at most
// `chunk` bytes, then the file's EOF chunk, as mariabackup writes them
// (xbstream_maker.cc).
std::string Xbstream(const std::vector<std::pair<std::string, std::string>>& files, size_t chunk);

namespace {

// Collects what reaches the end of a pipeline and whether it was closed.
class Collector final : public ByteSink {
 public:
  Status Write(std::string_view data) override {
    data_.append(data);
    return Status::Ok();
  }
  Status Close() override {
    ++closed_;
    return Status::Ok();
  }
  const std::string& data() const { return data_; }
  int closed() const { return closed_; }

 private:
  std::string data_;
  int closed_ = 0;
};

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Compressible: runs of a few letters.
std::string Text(size_t n) {
  std::string s;
  while (s.size() < n) s += "mysql-bin.000001 0-1-" + std::to_string(s.size() % 977) + "\n";
  s.resize(n);
  return s;
}

// Pushes `data` into `sink` in pieces of `piece` bytes, then closes it.
Status Push(ByteSink& sink, std::string_view data, size_t piece) {
  for (size_t at = 0; at < data.size(); at += piece) {
    MANAGE_RETURN_IF_ERROR(sink.Write(data.substr(at, piece)));
  }
  return sink.Close();
}

BackupKey Key(char fill) { return *ParseBackupKey(std::string(64, fill)); }

TEST_CASE("zstd round-trips streams of any size and piece size") {
  for (int threads : {0, 1}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{100000}, size_t{3} << 20}) {
      for (size_t piece : {size_t{1}, size_t{4093}, size_t{1} << 20}) {
        if (piece == 1 && size > 100000) continue;
        INFO("threads " << threads << " size " << size << " piece " << piece);
        const std::string input = size > 100000 ? Text(size) : Random(size, 7);
        Collector out;
        auto unzstd = NewZstdDecompressor(&out);
        Collector compressed;
        auto zstd = NewZstdCompressor(3, threads, &compressed);
        REQUIRE(zstd.ok());
        REQUIRE(Push(**zstd, input, piece).ok());
        CHECK(compressed.closed() == 1);
        if (size > 100000) CHECK(compressed.data().size() < size / 4);
        REQUIRE(Push(*unzstd, compressed.data(), piece).ok());
        CHECK(out.data() == input);
        CHECK(out.closed() == 1);
      }
    }
  }
}

TEST_CASE("zstd refuses a truncated or corrupt stream") {
  Collector compressed;
  auto zstd = NewZstdCompressor(1, 0, &compressed);
  REQUIRE(zstd.ok());
  REQUIRE(Push(**zstd, Text(200000), 65536).ok());
  const std::string whole = compressed.data();

  Collector out;
  auto truncated = NewZstdDecompressor(&out);
  REQUIRE(truncated->Write(whole.substr(0, whole.size() - 10)).ok());
  Status closed = truncated->Close();
  CHECK(closed.code() == Code::kInternal);
  CHECK(closed.message().find("truncated") != std::string::npos);
  CHECK(out.closed() == 0);

  std::string flipped = whole;
  flipped[flipped.size() / 2] ^= 0x40;
  Collector out2;
  auto corrupt = NewZstdDecompressor(&out2);
  CHECK_FALSE(Push(*corrupt, flipped, 4096).ok());  // the frame checksum catches it at worst

  Collector out3;
  auto empty = NewZstdDecompressor(&out3);
  CHECK(empty->Close().code() == Code::kInternal);
}

TEST_CASE("Encrypted streams round-trip at every frame boundary") {
  const BackupKey key = Key('a');
  for (size_t size : {0, 1, 15, 16, 17, 48, 1000}) {
    for (size_t piece : {1, 5, 64}) {
      INFO("size " << size << " piece " << piece);
      const std::string input = Random(size, static_cast<uint32_t>(size));
      Collector sealed;
      auto enc = NewEncryptor(key, &sealed, /*frame_bytes=*/16);
      REQUIRE(enc.ok());
      REQUIRE(Push(**enc, input, piece).ok());
      const size_t frames = size / 16 + 1;  // always a last frame, possibly empty
      CHECK(sealed.data().size() == kCryptHeaderBytes + size + frames * 20);
      if (size >= 8) CHECK(sealed.data().find(input.substr(0, 8)) == std::string::npos);
      Collector out;
      auto dec = NewDecryptor(key, &out);
      REQUIRE(Push(*dec, sealed.data(), piece).ok());
      CHECK(out.data() == input);
      CHECK(out.closed() == 1);
    }
  }
}

TEST_CASE("Two encryptions of the same stream differ (a fresh nonce per stream)") {
  Collector a, b;
  auto ea = NewEncryptor(Key('1'), &a, 16);
  auto eb = NewEncryptor(Key('1'), &b, 16);
  REQUIRE(Push(**ea, "same plaintext", 4).ok());
  REQUIRE(Push(**eb, "same plaintext", 4).ok());
  CHECK(a.data() != b.data());
}

TEST_CASE("Tampering is detected before a byte of the tampered frame is passed on") {
  const BackupKey key = Key('b');
  const std::string input = Random(16 * 3 + 5, 3);  // frames 0..2 full, frame 3 last
  Collector sealed;
  auto enc = NewEncryptor(key, &sealed, 16);
  REQUIRE(Push(**enc, input, 7).ok());
  const std::string whole = sealed.data();
  const size_t frame = 4 + 16 + 16;
  auto frame_at = [&](int i) { return kCryptHeaderBytes + i * frame; };

  struct Row {
    std::string name;
    std::string stream;
    size_t passed_on;  // plaintext bytes that may reach the next stage
  };
  std::string flipped = whole;
  flipped[frame_at(1) + 10] ^= 1;
  std::string swapped = whole;
  std::swap_ranges(swapped.begin() + frame_at(0), swapped.begin() + frame_at(1),
                   swapped.begin() + frame_at(1));
  std::string header = whole;
  header[9] ^= 1;  // the frame size: part of every frame's additional data
  const Row rows[] = {
      {"a flipped bit in frame 1", flipped, 16},
      {"frames 0 and 1 swapped", swapped, 0},
      {"cut after frame 2 (at a frame boundary)", whole.substr(0, frame_at(3)), 48},
      {"cut inside the last frame", whole.substr(0, whole.size() - 3), 48},
      {"garbage after the last frame", whole + std::string(40, 'x'), 53},
      {"a changed header", header, 0},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Collector out;
    auto dec = NewDecryptor(key, &out);
    Status st = Push(*dec, row.stream, 11);
    CHECK(st.code() == Code::kInternal);
    CHECK(out.closed() == 0);
    CHECK(out.data() == input.substr(0, row.passed_on));
  }
}

TEST_CASE("A stream written with another key is refused by key id") {
  Collector sealed;
  auto enc = NewEncryptor(Key('c'), &sealed, 16);
  REQUIRE(Push(**enc, "rows", 4).ok());
  Collector out;
  auto dec = NewDecryptor(Key('d'), &out);
  Status st = Push(*dec, sealed.data(), 100);
  CHECK(st.code() == Code::kFailedPrecondition);
  CHECK(st.message().find(Key('c').id) != std::string::npos);
  CHECK(st.message().find(Key('d').id) != std::string::npos);
  CHECK(out.data().empty());
}

TEST_CASE("Keys are 64 hex digits or base64 of 32 bytes; messages never hold them") {
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  const std::string b64 = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";  // the same bytes
  Result<BackupKey> a = ParseBackupKey(" " + hex + "\n");
  Result<BackupKey> b = ParseBackupKey(b64);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->bytes.size() == 32);
  CHECK(a->bytes == b->bytes);
  CHECK(a->id == b->id);
  CHECK(a->id.size() == 16);
  CHECK(a->id != Key('e').id);
  for (const std::string& bad :
       {std::string("secret"), hex.substr(1), hex + "00", std::string(63, 'a') + "g",
        b64.substr(0, 43) + "A", std::string("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8A")}) {
    Result<BackupKey> k = ParseBackupKey(bad);
    INFO(bad);
    REQUIRE_FALSE(k.ok());
    CHECK(k.status().code() == Code::kInvalidArgument);
    CHECK(k.status().message().find(bad) == std::string::npos);
  }
  Result<BackupKey> raw = ParseBackupKeyFile(a->bytes);
  REQUIRE(raw.ok());
  CHECK(raw->id == a->id);
  CHECK(ParseBackupKeyFile(hex + "\n")->id == a->id);
}

TEST_CASE("XbstreamChecker accepts well-formed streams and names what is wrong") {
  const std::string good = Xbstream(
      {{"ibdata1", Random(70000, 1)}, {"xtrabackup_binlog_info", "mysql-bin.1\t4"}}, 30000);
  for (size_t piece : {1, 13, 1 << 20}) {
    XbstreamChecker check;
    REQUIRE(Push(check, good, piece).ok());
    CHECK(check.files() == 2);
    CHECK(check.payload_bytes() == 70000 + 13);
  }
  std::string bad_crc = good;
  bad_crc[40000] ^= 1;  // inside the second payload chunk of ibdata1
  std::string bad_magic = good;
  bad_magic[3] = 'x';
  struct Row {
    std::string name, stream, want;
  };
  const Row rows[] = {
      {"payload changed", bad_crc, "payload checksum mismatch"},
      {"magic changed", bad_magic, "wrong chunk magic"},
      {"cut short", good.substr(0, good.size() - 5), "ends inside a chunk"},
      {"empty", "", "holds no file"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    XbstreamChecker check;
    Status st = Push(check, row.stream, 4096);
    CHECK(st.code() == Code::kInternal);
    CHECK(st.message().find(row.want) != std::string::npos);
  }
}

}  // namespace
}  // namespace manage::backup

namespace manage::backup {
namespace {

// Takes chunks on whatever thread calls it; fails from the Nth write on.
class SlowCollector final : public ByteSink {
 public:
  explicit SlowCollector(int fail_at = -1) : fail_at_(fail_at) {}
  Status Write(std::string_view data) override {
    if (writes_++ == fail_at_) return Status::Unavailable("store went away");
    std::this_thread::yield();
    data_.append(data);
    return Status::Ok();
  }
  Status Close() override {
    ++closed_;
    return Status::Ok();
  }
  std::string data_;
  int closed_ = 0;

 private:
  int fail_at_;
  int writes_ = 0;
};

TEST_CASE("AsyncSink passes everything on, in order, then closes the next stage") {
  SlowCollector out;
  std::string input;
  {
    AsyncSink async(&out, 64);  // a queue smaller than some chunks
    for (int i = 0; i < 2000; ++i) {
      std::string chunk = std::to_string(i) + std::string(i % 97, 'x') + ";";
      input += chunk;
      REQUIRE(async.Write(chunk).ok());
    }
    REQUIRE(async.Close().ok());
  }
  CHECK(out.data_ == input);
  CHECK(out.closed_ == 1);
}

TEST_CASE("AsyncSink returns the consumer's error to the producer and does not close it") {
  SlowCollector out(/*fail_at=*/5);
  AsyncSink async(&out, 16);
  Status st = Status::Ok();
  for (int i = 0; i < 1000 && st.ok(); ++i) st = async.Write("0123456789");
  CHECK(st.code() == Code::kUnavailable);
  CHECK(async.Close().code() == Code::kUnavailable);
  CHECK(out.closed_ == 0);
  CHECK(out.data_.size() == 50);
}

TEST_CASE("AsyncSink dropped before Close stops its worker") {
  SlowCollector out;
  {
    AsyncSink async(&out, 1 << 20);
    REQUIRE(async.Write("abc").ok());
  }  // no Close: e.g. mariabackup failed
  CHECK(out.closed_ == 0);
}

}  // namespace
}  // namespace manage::backup
