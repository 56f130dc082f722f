#include "backup/stream.h"

#include <zstd.h>

#include <string>

namespace manage::backup {
namespace {

// The one place a zstd error code becomes a Status.
Status ZstdStatus(size_t code, const char* what) {
  return Status::Internal(std::string(what) + ": " + ZSTD_getErrorName(code));
}

class ZstdCompressor final : public ByteSink {
 public:
  explicit ZstdCompressor(ByteSink* next) : next_(next), out_(ZSTD_CStreamOutSize(), '\0') {}
  ~ZstdCompressor() override { ZSTD_freeCCtx(ctx_); }

  Status Init(int level, int threads) {
    ctx_ = ZSTD_createCCtx();
    if (ctx_ == nullptr) return Status::Internal("zstd: out of memory");
    size_t rc = ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level);
    if (ZSTD_isError(rc)) return ZstdStatus(rc, "zstd level");
    rc = ZSTD_CCtx_setParameter(ctx_, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(rc)) return ZstdStatus(rc, "zstd checksum");
    if (threads > 0) {
      // Ignored (an error) by a libzstd built without threads: then it
      // compresses in the caller's thread, which is still correct.
      (void)ZSTD_CCtx_setParameter(ctx_, ZSTD_c_nbWorkers, threads);
    }
    return Status::Ok();
  }

  Status Write(std::string_view data) override { return Run(data, ZSTD_e_continue); }
  Status Close() override {
    MANAGE_RETURN_IF_ERROR(Run({}, ZSTD_e_end));
    return next_->Close();
  }

 private:
  // Feeds `data` and passes on whatever zstd produced; with ZSTD_e_end, until
  // the frame is complete.
  Status Run(std::string_view data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t remaining = ZSTD_compressStream2(ctx_, &out, &in, mode);
      if (ZSTD_isError(remaining)) return ZstdStatus(remaining, "zstd compress");
      if (out.pos > 0) MANAGE_RETURN_IF_ERROR(next_->Write({out_.data(), out.pos}));
      bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) return Status::Ok();
    }
  }

  ByteSink* next_;
  ZSTD_CCtx* ctx_ = nullptr;
  std::string out_;
};

class ZstdDecompressor final : public ByteSink {
 public:
  explicit ZstdDecompressor(ByteSink* next)
      : next_(next), ctx_(ZSTD_createDCtx()), out_(ZSTD_DStreamOutSize(), '\0') {}
  ~ZstdDecompressor() override { ZSTD_freeDCtx(ctx_); }

  Status Write(std::string_view data) override {
    if (ctx_ == nullptr) return Status::Internal("zstd: out of memory");
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    // Until zstd has taken all the input and has nothing more to give for it.
    bool output_full = true;
    while (in.pos < in.size || output_full) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const size_t consumed_before = in.pos;
      size_t hint = ZSTD_decompressStream(ctx_, &out, &in);
      if (ZSTD_isError(hint)) return ZstdStatus(hint, "zstd decompress (corrupt snapshot?)");
      // 0: a frame is complete and flushed. A call that moved nothing after
      // that returns the next frame's header size, which opens no frame.
      if (hint == 0) {
        frame_open_ = false;
      } else if (in.pos > consumed_before || out.pos > 0) {
        frame_open_ = true;
      }
      output_full = out.pos == out.size;
      if (out.pos > 0) MANAGE_RETURN_IF_ERROR(next_->Write({out_.data(), out.pos}));
    }
    seen_input_ = seen_input_ || !data.empty();
    return Status::Ok();
  }

  Status Close() override {
    if (!seen_input_ || frame_open_) {
      return Status::Internal("zstd decompress: the compressed stream is truncated");
    }
    return next_->Close();
  }

 private:
  ByteSink* next_;
  ZSTD_DCtx* ctx_;
  std::string out_;
  bool frame_open_ = false;
  bool seen_input_ = false;
};

}  // namespace

Status HashingSink::Write(std::string_view data) {
  hash_.Update(data);
  bytes_ += data.size();
  return next_->Write(data);
}

Status HashingSink::Close() {
  Result<std::string> digest = hash_.Finish();
  if (!digest.ok()) return digest.status();
  digest_ = *digest;
  return next_->Close();
}

Result<std::unique_ptr<ByteSink>> NewZstdCompressor(int level, int threads, ByteSink* next) {
  auto c = std::make_unique<ZstdCompressor>(next);
  MANAGE_RETURN_IF_ERROR(c->Init(level, threads));
  return std::unique_ptr<ByteSink>(std::move(c));
}

std::unique_ptr<ByteSink> NewZstdDecompressor(ByteSink* next) {
  return std::make_unique<ZstdDecompressor>(next);
}

}  // namespace manage::backup
