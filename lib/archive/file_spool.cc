#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "archive/spool.h"
#include "sys/posix_error.h"
#include "sys/posix_io.h"
#include "sys/unique_fd.h"

namespace manage::archive {
namespace {

constexpr size_t kChunkBytes = 256 * 1024;

Result<sys::UniqueFd> Create(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys::PosixError("create " + path, errno);
  return fd;
}

class FileSpool final : public Spool {
 public:
  FileSpool(std::string path, sys::UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  ~FileSpool() override { ::unlink(path_.c_str()); }

  uint64_t size() const override { return size_; }

  Status Append(std::string_view data) override {
    MANAGE_RETURN_IF_ERROR(sys::WriteAll(fd_.get(), data, path_));
    size_ += data.size();
    return Status::Ok();
  }

  Status Read(uint64_t from, uint64_t to, const sys::OutputSink& sink) override {
    return ReadFd(fd_.get(), from, to, sink);
  }

  Status DropBefore(uint64_t from) override {
    const std::string next_path = path_ + ".next";
    auto next = Create(next_path);
    if (!next.ok()) return next.status();
    Status copied = ReadFd(fd_.get(), from, size_, [&](std::string_view chunk) {
      return sys::WriteAll(next->get(), chunk, next_path);
    });
    if (copied.ok() && ::rename(next_path.c_str(), path_.c_str()) != 0) {
      copied = sys::PosixError("rename " + next_path, errno);
    }
    if (!copied.ok()) {
      ::unlink(next_path.c_str());
      return copied;
    }
    fd_ = std::move(*next);
    size_ -= from;
    return Status::Ok();
  }

 private:
  Status ReadFd(int fd, uint64_t from, uint64_t to, const sys::OutputSink& sink) {
    std::string buf(kChunkBytes, '\0');
    while (from < to) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), to - from));
      ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(from));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys::PosixError("read " + path_, errno);
      if (n == 0) return Status::Internal("spool " + path_ + " is shorter than expected");
      MANAGE_RETURN_IF_ERROR(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
      from += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  std::string path_;
  sys::UniqueFd fd_;
  uint64_t size_ = 0;
};

}  // namespace

Result<std::unique_ptr<Spool>> OpenFileSpool(const std::string& path) {
  MANAGE_RETURN_IF_ERROR(sys::MakeDirectories(sys::Dirname(path), 0700));
  auto fd = Create(path);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<Spool>(new FileSpool(path, std::move(*fd)));
}

}  // namespace manage::archive
