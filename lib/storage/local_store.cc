#include "storage/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sys/posix_error.h"
#include "sys/posix_io.h"
#include "sys/unique_fd.h"

namespace manage::storage {
namespace {

using sys::PosixError;
using sys::UniqueFd;

constexpr char kPartialSuffix[] = ".partial";
constexpr size_t kReadChunkBytes = 1024 * 1024;
constexpr uint64_t kWritebackBytes = 32 * 1024 * 1024;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(std::string dir, std::string path, UniqueFd fd)
      : dir_(std::move(dir)),
        path_(std::move(path)),
        partial_(path_ + kPartialSuffix),
        fd_(std::move(fd)) {}
  ~LocalWriter() override { Abort(); }

  Status Write(std::string_view data) override {
    if (!fd_.valid()) return Status::FailedPrecondition(path_ + " is no longer being written");
    MANAGE_RETURN_IF_ERROR(sys::WriteAll(fd_.get(), data, partial_));
    written_ += data.size();
    if (written_ - flushed_ >= kWritebackBytes) {
      // Starts writing the last range to disk now, while the stream goes on,
      // so that Commit's fsync has little left to wait for. Advisory: an
      // error here shows again at the fsync.
      (void)::sync_file_range(fd_.get(), static_cast<off_t>(flushed_),
                              static_cast<off_t>(written_ - flushed_), SYNC_FILE_RANGE_WRITE);
      flushed_ = written_;
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!fd_.valid()) return Status::FailedPrecondition(path_ + " is no longer being written");
    Status st = Status::Ok();
    if (::fsync(fd_.get()) != 0) st = PosixError("fsync " + partial_, errno);
    if (st.ok() && ::close(fd_.Release()) != 0) st = PosixError("close " + partial_, errno);
    if (st.ok() && ::rename(partial_.c_str(), path_.c_str()) != 0) {
      st = PosixError("rename " + partial_ + " to " + path_, errno);
    }
    if (!st.ok()) {
      Abort();
      return st;
    }
    done_ = true;
    return sys::SyncDir(dir_);
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    fd_.Reset();
    ::unlink(partial_.c_str());
  }

 private:
  std::string dir_, path_, partial_;
  UniqueFd fd_;
  bool done_ = false;
  uint64_t written_ = 0;
  uint64_t flushed_ = 0;  // handed to writeback up to here
};

std::chrono::system_clock::time_point ToTimePoint(const timespec& ts) {
  auto since_epoch = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

}  // namespace

LocalStore::LocalStore(std::string dir) : dir_(std::move(dir)) {}

Result<std::unique_ptr<ObjectWriter>> LocalStore::Create(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  MANAGE_RETURN_IF_ERROR(sys::MakeDirectories(dir_, 0750));
  std::string partial = Path(name) + kPartialSuffix;
  UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd.valid()) return PosixError("create " + partial, errno);
  return std::unique_ptr<ObjectWriter>(new LocalWriter(dir_, Path(name), std::move(fd)));
}

Status LocalStore::Read(const std::string& name, const sys::OutputSink& sink) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  std::string path = Path(name);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno);
  std::string buf(kReadChunkBytes, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("read " + path, errno);
    if (n == 0) return Status::Ok();
    MANAGE_RETURN_IF_ERROR(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
}

Result<ObjectInfo> LocalStore::Stat(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  std::string path = Path(name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::NotFound(path + " is not a file");
  return ObjectInfo{name, static_cast<uint64_t>(st.st_size), ToTimePoint(st.st_mtim), ""};
}

Result<std::vector<ObjectInfo>> LocalStore::List(const std::string& prefix) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(dir_.c_str()));
  if (!dir) {
    if (errno == ENOENT) return std::vector<ObjectInfo>{};
    return PosixError("opendir " + dir_, errno);
  }
  std::vector<ObjectInfo> objects;
  errno = 0;
  while (dirent* d = ::readdir(dir.get())) {
    std::string name = d->d_name;
    struct stat st {};
    if (!name.starts_with(prefix) || !ValidateObjectName(name).ok() ||
        ::fstatat(::dirfd(dir.get()), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
      errno = 0;
      continue;
    }
    objects.push_back(
        {std::move(name), static_cast<uint64_t>(st.st_size), ToTimePoint(st.st_mtim), ""});
    errno = 0;
  }
  if (errno != 0) return PosixError("readdir " + dir_, errno);
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return objects;
}

Status LocalStore::Remove(const std::string& name) {
  MANAGE_RETURN_IF_ERROR(ValidateObjectName(name));
  std::string path = Path(name);
  if (::unlink(path.c_str()) != 0) return PosixError("remove " + path, errno);
  return Status::Ok();
}

}  // namespace manage::storage
