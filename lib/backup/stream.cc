#include "backup/stream.h"

#include <zstd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

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

struct AsyncSink::State {
  ByteSink* next;
  size_t capacity;
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::string> queue;  // guarded by mu
  size_t queued = 0;              // bytes in queue; guarded by mu
  bool closing = false;           // no more Writes; guarded by mu
  bool stopping = false;          // drop everything and quit; guarded by mu
  bool done = false;              // the worker has finished; guarded by mu
  Status failure;                 // the consumer's first error; guarded by mu
  std::thread worker;
};

AsyncSink::AsyncSink(ByteSink* next, size_t capacity) : state_(std::make_unique<State>()) {
  state_->next = next;
  state_->capacity = capacity;
  state_->worker = std::thread(&AsyncSink::Run, this);
}

AsyncSink::~AsyncSink() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->changed.notify_all();
  if (state_->worker.joinable()) state_->worker.join();
}

void AsyncSink::Run() {
  State& st = *state_;
  std::unique_lock<std::mutex> lock(st.mu);
  for (;;) {
    st.changed.wait(lock, [&] { return st.stopping || st.closing || !st.queue.empty(); });
    if (st.stopping) break;
    if (st.queue.empty()) {  // closing, and everything was passed on
      lock.unlock();
      Status closed = st.failure.ok() ? st.next->Close() : Status::Ok();
      lock.lock();
      if (st.failure.ok()) st.failure = closed;
      break;
    }
    std::string chunk = std::move(st.queue.front());
    st.queue.pop_front();
    lock.unlock();
    Status written = st.failure.ok() ? st.next->Write(chunk) : Status::Ok();
    lock.lock();
    st.queued -= chunk.size();
    if (st.failure.ok() && !written.ok()) st.failure = written;
    st.changed.notify_all();
  }
  st.done = true;
  st.changed.notify_all();
}

Status AsyncSink::Write(std::string_view data) {
  State& st = *state_;
  std::unique_lock<std::mutex> lock(st.mu);
  // Wait for room; one chunk larger than the whole queue goes in alone.
  st.changed.wait(lock, [&] {
    return !st.failure.ok() || st.done || st.queued == 0 || st.queued + data.size() <= st.capacity;
  });
  if (!st.failure.ok()) return st.failure;
  if (st.done || st.closing) return Status::FailedPrecondition("write after close");
  st.queue.emplace_back(data);
  st.queued += data.size();
  st.changed.notify_all();
  return Status::Ok();
}

Status AsyncSink::Failure() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->failure;
}

Status AsyncSink::Close() {
  State& st = *state_;
  std::unique_lock<std::mutex> lock(st.mu);
  st.closing = true;
  st.changed.notify_all();
  st.changed.wait(lock, [&] { return st.done; });
  return st.failure;
}

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
