// Child: one running child process with non-blocking pipes on its stdin,
// stdout and stderr, driven by a poll loop. Internal to RealProcessRunner.
// Not thread-safe. Destroying a Child that has not exited stops it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"
#include "sys/process.h"
#include "sys/unique_fd.h"

namespace manage::sys {

class Child {
 public:
  // `sink` (may be null: capture stdout) must outlive the Child.
  Child(const Command& cmd, const OutputSink* sink);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Starts the program in its own process group. Unavailable when it cannot
  // be executed, InvalidArgument for an empty argv.
  Status Start(const Command& cmd);
  // Writes all of `data` to stdin while draining stdout and stderr.
  // FailedPrecondition when the child stopped reading; sink errors and
  // DeadlineExceeded are also remembered in failure().
  Status Feed(std::string_view data);
  // Closes stdin, drains the output and waits for the child to exit.
  Status Finish();
  // SIGTERM to the process group, SIGKILL after a grace period; reaps it.
  void Stop();

  bool input_broken() const { return input_broken_; }
  // The first sink error or DeadlineExceeded seen, else OK.
  const Status& failure() const { return failure_; }
  ProcessResult& result() { return result_; }

 private:
  Status PumpOnce(std::string_view* pending);
  void WriteSome(std::string_view* pending);
  Status ReadSome(UniqueFd& fd, bool is_stdout);
  Status Fail(Status st);
  Status WaitForExit();
  bool TryReap();
  void Reaped(int wait_status);

  std::string program_;
  const OutputSink* sink_;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point deadline_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  bool input_broken_ = false;
  UniqueFd in_, out_, err_;
  Status failure_;
  ProcessResult result_;
  std::string read_buf_;  // one chunk read from stdout or stderr
};

}  // namespace manage::sys
