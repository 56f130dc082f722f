#include "sys/process.h"

#include <pthread.h>
#include <signal.h>

#include <vector>

#include "sys/child.h"

namespace manage::sys {
namespace {

constexpr size_t kInputChunkBytes = 64 * 1024;
constexpr size_t kStatusTailLines = 3;
constexpr size_t kStatusTailChars = 600;

// Blocks SIGPIPE in this thread while a child runs, so that writing to a child
// that has exited fails with EPIPE instead of killing the process, and
// swallows the SIGPIPE that such a write left pending.
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask_);
  }
  ~SigpipeBlocker() {
    if (!was_pending_) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeBlocker(const SigpipeBlocker&) = delete;
  SigpipeBlocker& operator=(const SigpipeBlocker&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
};

Result<ProcessResult> RunChild(const Command& cmd, const OutputSink* sink,
                               const InputWriter& writer) {
  SigpipeBlocker blocker;
  Child child(cmd, sink);
  MANAGE_RETURN_IF_ERROR(child.Start(cmd));
  OutputSink to_stdin = [&child](std::string_view chunk) { return child.Feed(chunk); };
  Status written = writer(to_stdin);
  if (!child.failure().ok()) {
    child.Stop();
    return child.failure();
  }
  if (!written.ok() && !child.input_broken()) {
    child.Stop();
    return written;
  }
  Status finished = child.Finish();
  if (!finished.ok()) {
    child.Stop();
    return finished;
  }
  return std::move(child.result());
}

// The last few non-empty lines of `text`, joined with " | ".
std::string LastLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t end = text.size();
  while (end > 0 && lines.size() < kStatusTailLines) {
    size_t start = text.rfind('\n', end - 1);
    size_t from = start == std::string::npos ? 0 : start + 1;
    if (end > from) lines.push_back(text.substr(from, end - from));
    if (start == std::string::npos) break;
    end = start;
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!out.empty()) out += " | ";
    out += *it;
  }
  if (out.size() > kStatusTailChars) out = "..." + out.substr(out.size() - kStatusTailChars);
  return out;
}

}  // namespace

Result<ProcessResult> RealProcessRunner::Run(const Command& cmd, std::string_view stdin_data) {
  return RunChild(cmd, nullptr, [stdin_data](const OutputSink& to_stdin) {
    return stdin_data.empty() ? Status::Ok() : to_stdin(stdin_data);
  });
}

Result<ProcessResult> RealProcessRunner::RunWithOutput(const Command& cmd, const OutputSink& sink) {
  return RunChild(cmd, &sink, [](const OutputSink&) { return Status::Ok(); });
}

Result<ProcessResult> RealProcessRunner::RunWithInput(const Command& cmd,
                                                      const InputSource& source) {
  return RunChild(cmd, nullptr, [&source](const OutputSink& to_stdin) {
    std::vector<char> buf(kInputChunkBytes);
    for (;;) {
      Result<size_t> n = source(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::Ok();
      MANAGE_RETURN_IF_ERROR(to_stdin(std::string_view(buf.data(), *n)));
    }
  });
}

Result<ProcessResult> RealProcessRunner::RunWithWriter(const Command& cmd,
                                                       const InputWriter& writer) {
  return RunChild(cmd, nullptr, writer);
}

Status CheckExit(const std::string& what, const ProcessResult& r) {
  if (r.exit_code == 0) return Status::Ok();
  std::string msg = r.signal != 0 ? what + " killed by signal " + std::to_string(r.signal)
                                  : what + " exited " + std::to_string(r.exit_code);
  std::string tail = LastLines(r.stderr_tail);
  if (!tail.empty()) msg += ": " + tail;
  return Status::Internal(std::move(msg));
}

}  // namespace manage::sys
