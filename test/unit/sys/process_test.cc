#include "sys/process.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "unit/sys/temp_dir.h"

namespace manage::sys {
namespace {

using std::chrono::milliseconds;

Command Cmd(std::vector<std::string> argv, milliseconds timeout = std::chrono::seconds(20)) {
  Command cmd;
  cmd.argv = std::move(argv);
  cmd.timeout = timeout;
  return cmd;
}

TEST_CASE("Run captures stdout and the exit code") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.Run(Cmd({"/bin/echo", "hello", "world"}), {});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->signal == 0);
  CHECK(r->stdout_data == "hello world\n");
  CHECK(CheckExit("echo", *r).ok());
}

TEST_CASE("Run passes arguments without a shell") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.Run(Cmd({"echo", "$HOME", "a;b", "'q'"}), {});
  REQUIRE(r.ok());
  CHECK(r->stdout_data == "$HOME a;b 'q'\n");
}

TEST_CASE("Run feeds stdin and handles more data than a pipe holds") {
  RealProcessRunner runner;
  std::string big(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  Result<ProcessResult> r = runner.Run(Cmd({"cat"}), big);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->stdout_data == big);
}

TEST_CASE("Non-zero exits are results; CheckExit turns them into errors") {
  RealProcessRunner runner;
  Result<ProcessResult> r =
      runner.Run(Cmd({"sh", "-c", "echo first >&2; echo oops >&2; exit 3"}), {});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->stderr_tail == "first\noops\n");
  Status st = CheckExit("sh", *r);
  CHECK(st.code() == Code::kInternal);
  CHECK(st.message() == "sh exited 3: first | oops");
}

TEST_CASE("A child killed by a signal reports it") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.Run(Cmd({"sh", "-c", "kill -TERM $$"}), {});
  REQUIRE(r.ok());
  CHECK(r->exit_code == -1);
  CHECK(r->signal == SIGTERM);
  CHECK(CheckExit("sh", *r).message() == "sh killed by signal 15");
}

TEST_CASE("stderr keeps only its last 8 KiB") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.Run(
      Cmd({"sh", "-c", "head -c 100000 /dev/zero | tr '\\000' x >&2; echo END >&2"}), {});
  REQUIRE(r.ok());
  CHECK(r->stderr_tail.size() == 8192);
  CHECK(r->stderr_tail.substr(r->stderr_tail.size() - 5) == "xEND\n");
}

TEST_CASE("A child that runs past its timeout is killed") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.Run(Cmd({"sleep", "30"}, milliseconds(200)), {});
  CHECK(r.status().code() == Code::kDeadlineExceeded);
}

TEST_CASE("The timeout also covers grandchildren holding the pipes") {
  RealProcessRunner runner;
  Result<ProcessResult> r =
      runner.Run(Cmd({"sh", "-c", "sleep 30 & echo started"}, milliseconds(300)), {});
  CHECK(r.status().code() == Code::kDeadlineExceeded);
}

TEST_CASE("A program that cannot be executed is Unavailable") {
  RealProcessRunner runner;
  auto [argv0, want] = GENERATE(table<std::string, std::string>({
      {"/nonexistent/prog", "cannot run '/nonexistent/prog': No such file or directory"},
      {"manage-no-such-program", "cannot run 'manage-no-such-program': No such file or directory"},
  }));
  Result<ProcessResult> r = runner.Run(Cmd({argv0}), {});
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == want);
}

TEST_CASE("A file without execute permission is Unavailable") {
  TempDir dir;
  std::string path = dir / "not-a-program";
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fclose(f);
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.Run(Cmd({path}), {});
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == "cannot run '" + path + "': Permission denied");
}

TEST_CASE("An empty command is InvalidArgument") {
  RealProcessRunner runner;
  CHECK(runner.Run(Cmd({}), {}).status().code() == Code::kInvalidArgument);
}

TEST_CASE("RunWithOutput streams stdout to the sink") {
  RealProcessRunner runner;
  size_t total = 0, chunks = 0;
  Result<ProcessResult> r = runner.RunWithOutput(Cmd({"head", "-c", "3000000", "/dev/zero"}),
                                                 [&](std::string_view chunk) {
                                                   total += chunk.size();
                                                   ++chunks;
                                                   return Status::Ok();
                                                 });
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->stdout_data.empty());
  CHECK(total == 3000000);
  CHECK(chunks > 1);  // more than one 1 MiB read
}

TEST_CASE("A failing sink stops the child and its status is returned") {
  RealProcessRunner runner;
  size_t total = 0;
  Result<ProcessResult> r = runner.RunWithOutput(Cmd({"yes"}), [&](std::string_view chunk) {
    total += chunk.size();
    return total > 1000000 ? Status::Unavailable("disk full") : Status::Ok();
  });
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message() == "disk full");
}

TEST_CASE("RunWithInput reads stdin from the source") {
  RealProcessRunner runner;
  size_t left = 1000000;
  Result<ProcessResult> r = runner.RunWithInput(Cmd({"wc", "-c"}), [&](char* buf, size_t len) {
    size_t n = std::min<size_t>({len, left, 1000});
    std::fill(buf, buf + n, 'y');
    left -= n;
    return Result<size_t>(n);
  });
  REQUIRE(r.ok());
  CHECK(std::atoi(r->stdout_data.c_str()) == 1000000);
}

TEST_CASE("A source error stops the child and is returned") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.RunWithInput(Cmd({"cat"}), [](char*, size_t) {
    return Result<size_t>(Status::NotFound("no such object"));
  });
  CHECK(r.status().code() == Code::kNotFound);
}

TEST_CASE("A child that stops reading its input does not kill us with SIGPIPE") {
  RealProcessRunner runner;
  Result<ProcessResult> r =
      runner.RunWithInput(Cmd({"head", "-c", "10"}), [](char* buf, size_t len) {
        std::fill(buf, buf + len, 'z');
        return Result<size_t>(len);  // endless input
      });
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->stdout_data == std::string(10, 'z'));

  Result<ProcessResult> t = runner.Run(Cmd({"true"}), std::string(1 << 20, 'q'));
  REQUIRE(t.ok());
  CHECK(t->exit_code == 0);
}

TEST_CASE("RunWithWriter pushes chunks to stdin") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.RunWithWriter(Cmd({"cat"}), [](const OutputSink& to_stdin) {
    for (const char* part : {"one ", "two ", "three"}) MANAGE_RETURN_IF_ERROR(to_stdin(part));
    return Status::Ok();
  });
  REQUIRE(r.ok());
  CHECK(r->stdout_data == "one two three");
}

TEST_CASE("RunWithWriter: a writer error stops the child") {
  RealProcessRunner runner;
  Result<ProcessResult> r = runner.RunWithWriter(Cmd({"cat"}), [](const OutputSink& to_stdin) {
    MANAGE_RETURN_IF_ERROR(to_stdin("partial"));
    return Status::Unavailable("store went away");
  });
  CHECK(r.status().code() == Code::kUnavailable);
}

TEST_CASE("RunWithWriter: a child that exits early gives its exit code") {
  RealProcessRunner runner;
  Status seen;
  Result<ProcessResult> r = runner.RunWithWriter(Cmd({"sh", "-c", "echo bad stream >&2; exit 2"}),
                                                 [&seen](const OutputSink& to_stdin) {
                                                   std::string chunk(65536, 'd');
                                                   for (int i = 0; i < 1000 && seen.ok(); ++i)
                                                     seen = to_stdin(chunk);
                                                   return seen;
                                                 });
  REQUIRE(r.ok());
  CHECK(r->exit_code == 2);
  CHECK(seen.code() == Code::kFailedPrecondition);
  CHECK(CheckExit("sh", *r).message() == "sh exited 2: bad stream");
}

TEST_CASE("Extra environment entries are added or replace inherited ones") {
  RealProcessRunner runner;
  Command cmd = Cmd({"sh", "-c", "echo \"$MANAGE_TEST_A/$HOME\""});
  cmd.env = {"MANAGE_TEST_A=42", "HOME=/replaced"};
  Result<ProcessResult> r = runner.Run(cmd, {});
  REQUIRE(r.ok());
  CHECK(r->stdout_data == "42//replaced\n");
}

TEST_CASE("The child runs in the given working directory") {
  TempDir dir;
  REQUIRE(!dir.path().empty());
  char real[PATH_MAX];
  REQUIRE(::realpath(dir.path().c_str(), real) != nullptr);
  RealProcessRunner runner;
  Command cmd = Cmd({"pwd", "-P"});
  cmd.cwd = dir.path();
  Result<ProcessResult> r = runner.Run(cmd, {});
  REQUIRE(r.ok());
  CHECK(r->stdout_data == std::string(real) + "\n");

  cmd.cwd = dir / "missing";
  Status st = runner.Run(cmd, {}).status();
  CHECK(st.code() == Code::kUnavailable);
  CHECK(st.message() == "cannot run 'pwd' in " + cmd.cwd + ": No such file or directory");
}

}  // namespace
}  // namespace manage::sys
