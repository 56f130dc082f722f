#include "sys/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "sys/posix_error.h"

namespace manage::sys {
namespace {

using Steady = std::chrono::steady_clock;
// Backups stream gigabytes through stdin and stdout: 1 MiB pipes and reads
// take a sixteenth of the wake-ups and system calls of the default 64 KiB.
constexpr size_t kChunkBytes = 1024 * 1024;
constexpr int kPipeBytes = 1024 * 1024;
constexpr size_t kStderrTailBytes = 8 * 1024;
constexpr auto kKillGrace = std::chrono::seconds(2);
constexpr auto kReapInterval = std::chrono::milliseconds(5);

struct Pipe {
  UniqueFd read, write;
};

// Moves fd to a number >= 3 so that dup2 onto 0..2 in the child never is a no-op.
Status AboveStdio(UniqueFd& fd) {
  if (fd.get() > 2) return Status::Ok();
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return PosixError("fcntl", errno);
  fd.Reset(moved);
  return Status::Ok();
}

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return PosixError("pipe", errno);
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  // Best effort: above /proc/sys/fs/pipe-max-size an unprivileged process
  // keeps the default size, which still works.
  (void)::fcntl(p.write.get(), F_SETPIPE_SZ, kPipeBytes);
  MANAGE_RETURN_IF_ERROR(AboveStdio(p.read));
  MANAGE_RETURN_IF_ERROR(AboveStdio(p.write));
  return p;
}

Status SetNonBlocking(const UniqueFd& fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return PosixError("fcntl", errno);
  }
  return Status::Ok();
}

// The parent's environment with the "K=V" entries of `extra` added or replaced.
std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  auto key = [](std::string_view kv) { return kv.substr(0, kv.find('=')); };
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    bool replaced = std::any_of(extra.begin(), extra.end(),
                                [&](const std::string& x) { return key(x) == key(kv); });
    if (!replaced) out.emplace_back(kv);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn attributes: own process group, empty signal mask, and default
// dispositions for signals the parent may ignore (SIGPIPE above all).
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  int Configure(const Pipe& in, const Pipe& out, const Pipe& err, const std::string& cwd) {
    int rc = posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
    if (rc == 0 && !cwd.empty()) rc = posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) {
      sigaddset(&defaults, sig);
    }
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &defaults);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
    if (rc == 0) {
      rc = posix_spawnattr_setflags(
          &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    }
    return rc;
  }
};

}  // namespace

Child::Child(const Command& cmd, const OutputSink* sink)
    : program_(cmd.argv.empty() ? "" : cmd.argv[0]),
      sink_(sink),
      timeout_(cmd.timeout),
      deadline_(Steady::now() + cmd.timeout) {}

Child::~Child() {
  if (pid_ > 0 && !reaped_) Stop();
}

Status Child::Start(const Command& cmd) {
  if (cmd.argv.empty()) return Status::InvalidArgument("cannot run an empty command");
  Result<Pipe> in = MakePipe(), out = MakePipe(), err = MakePipe();
  for (const Result<Pipe>* p : {&in, &out, &err}) {
    if (!p->ok()) return p->status();
  }
  SpawnSetup setup;
  if (int rc = setup.Configure(*in, *out, *err, cmd.cwd); rc != 0) {
    return PosixError("posix_spawn setup for '" + program_ + "'", rc);
  }
  std::vector<std::string> args = cmd.argv;
  std::vector<std::string> env = MergedEnv(cmd.env);
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);
  int rc = ::posix_spawnp(&pid_, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) {
    pid_ = -1;
    std::string where = cmd.cwd.empty() ? "" : " in " + cmd.cwd;
    return Status::Unavailable("cannot run '" + program_ + "'" + where + ": " + std::strerror(rc));
  }
  in_ = std::move(in->write);
  out_ = std::move(out->read);
  err_ = std::move(err->read);
  for (const UniqueFd* fd : {&in_, &out_, &err_}) MANAGE_RETURN_IF_ERROR(SetNonBlocking(*fd));
  return Status::Ok();
}

Status Child::Feed(std::string_view data) {
  while (!data.empty()) {
    if (input_broken_ || !in_.valid()) {
      return Status::FailedPrecondition("'" + program_ + "' stopped reading its input");
    }
    MANAGE_RETURN_IF_ERROR(PumpOnce(&data));
  }
  return Status::Ok();
}

Status Child::Finish() {
  in_.Reset();
  while (out_.valid() || err_.valid()) MANAGE_RETURN_IF_ERROR(PumpOnce(nullptr));
  return WaitForExit();
}

Status Child::Fail(Status st) {
  if (failure_.ok()) failure_ = st;
  return st;
}

Status Child::PumpOnce(std::string_view* pending) {
  if (!failure_.ok()) return failure_;
  pollfd fds[3];
  nfds_t n = 0;
  // Adds `fd` to the poll set; the returned slot gives back its revents.
  auto watch = [&](const UniqueFd& fd, short events) -> pollfd* {
    if (!fd.valid()) return nullptr;
    fds[n] = {fd.get(), events, 0};
    return &fds[n++];
  };
  pollfd* in = pending != nullptr && !pending->empty() ? watch(in_, POLLOUT) : nullptr;
  pollfd* out = watch(out_, POLLIN);
  pollfd* err = watch(err_, POLLIN);
  if (n == 0) return Status::Ok();
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Steady::now());
  if (left.count() <= 0) {
    return Fail(Status::DeadlineExceeded("'" + program_ + "' did not finish within " +
                                         std::to_string(timeout_.count()) + " ms"));
  }
  int rc = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 60000)));
  if (rc < 0) return errno == EINTR ? Status::Ok() : PosixError("poll", errno);
  if (in != nullptr && in->revents != 0) WriteSome(pending);
  if (out != nullptr && out->revents != 0) MANAGE_RETURN_IF_ERROR(ReadSome(out_, true));
  if (err != nullptr && err->revents != 0) MANAGE_RETURN_IF_ERROR(ReadSome(err_, false));
  return Status::Ok();
}

void Child::WriteSome(std::string_view* pending) {
  ssize_t n = ::write(in_.get(), pending->data(), std::min(pending->size(), kChunkBytes));
  if (n >= 0) {
    pending->remove_prefix(static_cast<size_t>(n));
  } else if (errno != EAGAIN && errno != EINTR) {
    input_broken_ = true;  // EPIPE: the child closed its stdin or exited
    in_.Reset();
  }
}

Status Child::ReadSome(UniqueFd& fd, bool is_stdout) {
  if (read_buf_.size() < kChunkBytes) read_buf_.resize(kChunkBytes);
  char* buf = read_buf_.data();
  ssize_t n = ::read(fd.get(), buf, read_buf_.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return Status::Ok();
  if (n <= 0) {
    fd.Reset();
    return Status::Ok();
  }
  std::string_view chunk(buf, static_cast<size_t>(n));
  if (!is_stdout) {
    std::string& tail = result_.stderr_tail;
    tail.append(chunk);
    if (tail.size() > 2 * kStderrTailBytes) tail.erase(0, tail.size() - kStderrTailBytes);
    return Status::Ok();
  }
  if (sink_ == nullptr) {
    result_.stdout_data.append(chunk);
    return Status::Ok();
  }
  Status st = (*sink_)(chunk);
  return st.ok() ? st : Fail(st);
}

bool Child::TryReap() {
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  Reaped(status);
  return true;
}

void Child::Reaped(int wait_status) {
  reaped_ = true;
  result_.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  result_.signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
  std::string& tail = result_.stderr_tail;
  if (tail.size() > kStderrTailBytes) tail.erase(0, tail.size() - kStderrTailBytes);
}

Status Child::WaitForExit() {
  while (!TryReap()) {
    if (Steady::now() >= deadline_) {
      return Fail(Status::DeadlineExceeded("'" + program_ + "' did not exit within " +
                                           std::to_string(timeout_.count()) + " ms"));
    }
    std::this_thread::sleep_for(kReapInterval);
  }
  return Status::Ok();
}

void Child::Stop() {
  if (pid_ <= 0 || reaped_) return;
  in_.Reset();
  out_.Reset();
  err_.Reset();
  ::kill(-pid_, SIGTERM);
  auto give_up = Steady::now() + kKillGrace;
  while (!TryReap() && Steady::now() < give_up) std::this_thread::sleep_for(kReapInterval);
  // SIGKILL whatever is left of the group, including grandchildren.
  ::kill(-pid_, SIGKILL);
  while (!reaped_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, 0);
    if (r == pid_) {
      Reaped(status);
    } else if (errno != EINTR) {
      reaped_ = true;  // ECHILD: nothing left to wait for
    }
  }
}

}  // namespace manage::sys
