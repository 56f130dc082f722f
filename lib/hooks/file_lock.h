// FileLock: an exclusive flock(2) on a file in the state dir, held for the
// object's lifetime and released by the kernel if the process dies. It
// serialises work that two hooks on the same node could otherwise do at once.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

namespace manage::hooks {

class FileLock {
 public:
  enum Mode { kWait, kTry };

  // kWait blocks until the lock is held; kTry gives up at once when another
  // process holds it. ok() is false when the file cannot be opened or (kTry)
  // the lock is taken; busy() tells the second case from the first.
  explicit FileLock(const std::string& path, Mode mode = kWait)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) return;
    if (::flock(fd_, mode == kTry ? LOCK_EX | LOCK_NB : LOCK_EX) != 0) {
      busy_ = errno == EWOULDBLOCK;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool busy() const { return busy_; }

 private:
  int fd_;
  bool busy_ = false;
};

}  // namespace manage::hooks
