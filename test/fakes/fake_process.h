// FakeProcessRunner: a ProcessRunner that runs nothing. It records every
// command with the stdin it was given and answers from replies scripted per
// program (argv[0]); a program with nothing scripted exits 0 silently. Scripted
// stdout is streamed to the sink in small chunks. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sys/process.h"

namespace manage::sys {

class FakeProcessRunner final : public ProcessRunner {
 public:
  struct Call {
    Command cmd;
    std::string stdin_data;
  };
  struct Reply {
    int exit_code = 0;
    int signal = 0;
    std::string stdout_data;
    std::string stderr_data;
    // When not OK, returned instead of a result (Unavailable: cannot run,
    // DeadlineExceeded: timed out).
    Status error;
    // Runs after stdin was consumed and before stdout is produced: side
    // effects such as files in a FakeFileSystem, or checks at run time.
    std::function<void(const Call&)> effect;
    // The child stops reading stdin after this many bytes.
    std::optional<size_t> read_limit;

    // Fluent setters: Reply().Exit(1).Stderr("oops\n").
    Reply& Exit(int code) { return exit_code = code, *this; }
    Reply& Signal(int sig) { return signal = sig, *this; }
    Reply& Stdout(std::string data) { return stdout_data = std::move(data), *this; }
    Reply& Stderr(std::string data) { return stderr_data = std::move(data), *this; }
    Reply& Fail(Status st) { return error = std::move(st), *this; }
    Reply& Effect(std::function<void(const Call&)> fn) { return effect = std::move(fn), *this; }
    Reply& ReadLimit(size_t n) { return read_limit = n, *this; }
  };

  // Queues `reply` for the next run of `program` (matched against argv[0]).
  void Script(const std::string& program, Reply reply) {
    script_[program].push_back(std::move(reply));
  }
  const std::vector<Call>& calls() const { return calls_; }
  // Each call's argv joined with spaces, for readable assertions.
  std::vector<std::string> CommandLines() const {
    std::vector<std::string> out;
    for (const Call& c : calls_) {
      std::string line;
      for (const std::string& a : c.cmd.argv) line += (line.empty() ? "" : " ") + a;
      out.push_back(line);
    }
    return out;
  }
  // Bytes per chunk when streaming stdout to a sink.
  void set_chunk_size(size_t n) { chunk_size_ = std::max<size_t>(n, 1); }

  Result<ProcessResult> Run(const Command& cmd, std::string_view stdin_data = {}) override {
    return Execute(cmd, nullptr, [stdin_data](const OutputSink& to_stdin) {
      return stdin_data.empty() ? Status::Ok() : to_stdin(stdin_data);
    });
  }
  Result<ProcessResult> RunWithOutput(const Command& cmd, const OutputSink& sink) override {
    return Execute(cmd, &sink, nullptr);
  }
  Result<ProcessResult> RunWithInput(const Command& cmd, const InputSource& source) override {
    return Execute(cmd, nullptr, [&source](const OutputSink& to_stdin) {
      char buf[4096];
      for (;;) {
        Result<size_t> n = source(buf, sizeof buf);
        if (!n.ok()) return n.status();
        if (*n == 0) return Status::Ok();
        MANAGE_RETURN_IF_ERROR(to_stdin(std::string_view(buf, *n)));
      }
    });
  }
  Result<ProcessResult> RunWithWriter(const Command& cmd, const InputWriter& writer) override {
    return Execute(cmd, nullptr, writer);
  }

 private:
  Reply Next(const Command& cmd) {
    if (cmd.argv.empty()) return Reply{};
    auto it = script_.find(cmd.argv[0]);
    if (it == script_.end() || it->second.empty()) return Reply{};
    Reply r = std::move(it->second.front());
    it->second.pop_front();
    return r;
  }

  Result<ProcessResult> Execute(const Command& cmd, const OutputSink* sink,
                                const InputWriter& writer) {
    calls_.push_back(Call{cmd, ""});
    // An index, not a reference: a writer may run other programs (nested
    // runs), which grows calls_.
    const size_t index = calls_.size() - 1;
    Reply reply = Next(cmd);
    if (!reply.error.ok()) return reply.error;
    if (writer) {
      bool broken = false;
      OutputSink to_stdin = [&](std::string_view chunk) {
        std::string& input = calls_[index].stdin_data;
        size_t room = reply.read_limit ? *reply.read_limit - input.size() : chunk.size();
        input.append(chunk.substr(0, std::min(room, chunk.size())));
        if (room >= chunk.size()) return Status::Ok();
        broken = true;
        return Status::FailedPrecondition("'" + cmd.argv[0] + "' stopped reading its input");
      };
      Status written = writer(to_stdin);
      if (!written.ok() && !broken) return written;
    }
    if (reply.effect) reply.effect(calls_[index]);
    ProcessResult result;
    result.exit_code = reply.signal != 0 ? -1 : reply.exit_code;
    result.signal = reply.signal;
    result.stderr_tail = reply.stderr_data;
    if (sink == nullptr) {
      result.stdout_data = reply.stdout_data;
      return result;
    }
    for (size_t pos = 0; pos < reply.stdout_data.size(); pos += chunk_size_) {
      MANAGE_RETURN_IF_ERROR((*sink)(std::string_view(reply.stdout_data).substr(pos, chunk_size_)));
    }
    return result;
  }

  std::map<std::string, std::deque<Reply>> script_;
  std::vector<Call> calls_;
  size_t chunk_size_ = 5;
};

}  // namespace manage::sys
