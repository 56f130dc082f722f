// FileLock: an exclusive flock(2) on a file in the state dir, held for the
// object's lifetime and released by the kernel if the process dies. It
// serialises work that two hooks on the same node could otherwise do at once.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

namespace manage::hooks {

class FileLock {
 public:
  // Blocks until the lock is held; ok() is false when the file cannot be opened.
  explicit FileLock(const std::string& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace manage::hooks
