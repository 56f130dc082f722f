// ProcessRunner: runs child programs (mariadb-install-db, mariabackup, mbstream)
// without a shell. Secrets are passed through stdin or 0600 files, never argv.
// Output can be streamed to a sink or input streamed from a source so that large
// backups never need a staging copy. Implementations are not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace manage::sys {

struct Command {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  std::vector<std::string> env;   // extra "K=V" entries
  std::string cwd;                // empty: inherit
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

struct ProcessResult {
  int exit_code = -1;       // -1 when killed by a signal
  int signal = 0;           // the signal that killed the child, else 0
  std::string stdout_data;  // empty when stdout was streamed to a sink
  std::string stderr_tail;  // the last 8 KiB of stderr, for error messages
};

// Receives chunks of a child's stdout; a non-OK status stops the child.
using OutputSink = std::function<Status(std::string_view chunk)>;
// Fills buf with up to len bytes; returns 0 at end of input.
using InputSource = std::function<Result<size_t>(char* buf, size_t len)>;
// Pushes a child's whole stdin through `to_stdin`, then returns. `to_stdin`
// fails when the child stopped reading or the deadline passed; the writer
// should then stop and return that status.
using InputWriter = std::function<Status(const OutputSink& to_stdin)>;

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion, capturing stdout. Fails with Unavailable when the
  // program cannot be started and DeadlineExceeded on timeout (child killed).
  // A non-zero exit is not an error here: callers check exit_code.
  virtual Result<ProcessResult> Run(const Command& cmd, std::string_view stdin_data = {}) = 0;
  // As Run, but stdout goes to `sink` chunk by chunk.
  virtual Result<ProcessResult> RunWithOutput(const Command& cmd, const OutputSink& sink) = 0;
  // As Run, but stdin is read from `source` until it returns 0.
  virtual Result<ProcessResult> RunWithInput(const Command& cmd, const InputSource& source) = 0;
  // As Run, but stdin is pushed by `writer` (called once; stdin is closed when
  // it returns), for producers such as ObjectStore::Read that push chunks.
  // A writer error stops the child and is returned, unless the child had
  // already stopped reading: then the result is returned for its exit code.
  virtual Result<ProcessResult> RunWithWriter(const Command& cmd, const InputWriter& writer) = 0;
};

class RealProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const Command& cmd, std::string_view stdin_data) override;
  Result<ProcessResult> RunWithOutput(const Command& cmd, const OutputSink& sink) override;
  Result<ProcessResult> RunWithInput(const Command& cmd, const InputSource& source) override;
  Result<ProcessResult> RunWithWriter(const Command& cmd, const InputWriter& writer) override;
};

// "mariabackup exited 1: <last lines of stderr>" as an Internal Status (or
// "... killed by signal 9: ..."), OK when exit_code == 0.
Status CheckExit(const std::string& what, const ProcessResult& r);

}  // namespace manage::sys
