#include "sys/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>

#include "sys/posix_error.h"
#include "sys/posix_io.h"
#include "sys/unique_fd.h"

namespace manage::sys {
namespace {

struct Entry {
  std::string name;
  bool is_dir = false;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// The entries of the open directory `fd` (not "." or ".."); takes ownership of fd.
Result<std::vector<Entry>> ReadEntries(UniqueFd fd, const std::string& path) {
  DirPtr dir(::fdopendir(fd.get()));
  if (!dir) return PosixError("opendir " + path, errno);
  fd.Release();
  std::vector<Entry> entries;
  errno = 0;
  while (dirent* d = ::readdir(dir.get())) {
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir.get()), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return PosixError("stat " + path + "/" + name, errno);
    }
    entries.push_back({std::move(name), S_ISDIR(st.st_mode)});
    errno = 0;
  }
  if (errno != 0) return PosixError("readdir " + path, errno);
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return entries;
}

// Calls `visit(dirfd, name, is_dir, path)` for every entry below the open
// directory `dir`, children before their parent. Never follows symlinks.
using Visitor =
    std::function<Status(int dirfd, const std::string& name, bool is_dir, const std::string& path)>;
Status WalkBelow(UniqueFd dir, const std::string& path, const Visitor& visit) {
  UniqueFd for_listing(::dup(dir.get()));
  if (!for_listing.valid()) return PosixError("dup", errno);
  Result<std::vector<Entry>> entries = ReadEntries(std::move(for_listing), path);
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) {
    std::string child = path + "/" + e.name;
    if (e.is_dir) {
      UniqueFd sub(
          ::openat(dir.get(), e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return PosixError("open " + child, errno);
      MANAGE_RETURN_IF_ERROR(WalkBelow(std::move(sub), child, visit));
    }
    MANAGE_RETURN_IF_ERROR(visit(dir.get(), e.name, e.is_dir, child));
  }
  return Status::Ok();
}

// Opens a directory for WalkBelow; `follow` says whether `path` may be a symlink.
Result<UniqueFd> OpenDir(const std::string& path, bool follow) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
  if (!fd.valid()) return PosixError("open " + path, errno);
  return fd;
}

struct Owner {
  uid_t uid;
  gid_t gid;
};

Result<Owner> LookUpUser(const std::string& user) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return PosixError("look up user '" + user + "'", rc);
  if (found == nullptr) return Status::NotFound("no user named '" + user + "'");
  return Owner{pw.pw_uid, pw.pw_gid};
}

}  // namespace

bool RealFileSystem::Exists(const std::string& path) const {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool RealFileSystem::IsDirectory(const std::string& path) const {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> RealFileSystem::ReadFile(const std::string& path) const {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno);
  std::string data;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("read " + path, errno);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

Status RealFileSystem::WriteFileAtomic(const std::string& path, const std::string& data,
                                       mode_t mode) {
  return WriteViaTemporary(path, data, mode, /*durable=*/true);
}

Status RealFileSystem::ReplaceFile(const std::string& path, const std::string& data, mode_t mode) {
  return WriteViaTemporary(path, data, mode, /*durable=*/false);
}

Status RealFileSystem::WriteViaTemporary(const std::string& path, const std::string& data,
                                         mode_t mode, bool durable) {
  std::string tmp = path + ".tmp-XXXXXX";
  // mkostemp creates the file 0600, so a secret is never readable by others.
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid()) return PosixError("create temporary file for " + path, errno);
  Status st = Status::Ok();
  if (::fchmod(fd.get(), mode) != 0) st = PosixError("chmod " + tmp, errno);
  if (st.ok()) st = WriteAll(fd.get(), data, tmp);
  if (st.ok() && durable && ::fsync(fd.get()) != 0) st = PosixError("fsync " + tmp, errno);
  if (st.ok() && ::close(fd.Release()) != 0) st = PosixError("close " + tmp, errno);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = PosixError("rename " + tmp + " to " + path, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return durable ? SyncDir(Dirname(path)) : Status::Ok();
}

Status RealFileSystem::MakeDirs(const std::string& path, mode_t mode) {
  return MakeDirectories(path, mode);
}

Status RealFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return PosixError("rename " + from + " to " + to, errno);
  }
  return Status::Ok();
}

Status RealFileSystem::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return PosixError("unlink " + path, errno);
  return Status::Ok();
}

Status RealFileSystem::RemoveAll(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : PosixError("stat " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) return RemoveFile(path);
  Result<UniqueFd> dir = OpenDir(path, /*follow=*/false);
  if (!dir.ok()) return dir.status();
  auto remove = [](int dirfd, const std::string& name, bool is_dir, const std::string& child) {
    if (::unlinkat(dirfd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      return PosixError("remove " + child, errno);
    }
    return Status::Ok();
  };
  MANAGE_RETURN_IF_ERROR(WalkBelow(std::move(dir).value(), path, remove));
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return PosixError("rmdir " + path, errno);
  return Status::Ok();
}

Result<std::vector<std::string>> RealFileSystem::ListDir(const std::string& path) const {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return PosixError("open " + path, errno);
  Result<std::vector<Entry>> entries = ReadEntries(std::move(fd), path);
  if (!entries.ok()) return entries.status();
  std::vector<std::string> names;
  for (Entry& e : *entries) names.push_back(std::move(e.name));
  return names;
}

Status RealFileSystem::ChownRecursive(const std::string& path, const std::string& user) {
  Result<Owner> owner = LookUpUser(user);
  if (!owner.ok()) return owner.status();
  // The top path may be a symlink to a volume; below it symlinks are not followed.
  if (::chown(path.c_str(), owner->uid, owner->gid) != 0) return PosixError("chown " + path, errno);
  if (!IsDirectory(path)) return Status::Ok();
  Result<UniqueFd> dir = OpenDir(path, /*follow=*/true);
  if (!dir.ok()) return dir.status();
  auto chown = [&owner](int dirfd, const std::string& name, bool, const std::string& child) {
    if (::fchownat(dirfd, name.c_str(), owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return PosixError("chown " + child, errno);
    }
    return Status::Ok();
  };
  return WalkBelow(std::move(dir).value(), path, chown);
}

}  // namespace manage::sys
