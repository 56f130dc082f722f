// FileSystem: the file operations hooks need, behind an interface so tests can
// use an in-memory fake and inject failures. Paths are absolute.
// RealFileSystem is stateless and safe to share between threads.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace manage::sys {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual bool Exists(const std::string& path) const = 0;
  virtual bool IsDirectory(const std::string& path) const = 0;
  // NotFound when missing.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  // Writes to a temporary file beside `path`, fsyncs, then renames over it.
  virtual Status WriteFileAtomic(const std::string& path, const std::string& data,
                                 mode_t mode = 0644) = 0;
  // The same without the fsyncs: readers still see the old or the new file,
  // never a torn one, but a crash may lose it. For facts that mean nothing
  // after a reboot, written often (every health pass).
  virtual Status ReplaceFile(const std::string& path, const std::string& data,
                             mode_t mode = 0644) = 0;
  // Like mkdir -p; OK if it already exists.
  virtual Status MakeDirs(const std::string& path, mode_t mode = 0755) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes one file; OK if it is already gone.
  virtual Status RemoveFile(const std::string& path) = 0;
  // rm -rf: removes a file or a directory tree without following symlinks;
  // OK if it is already gone.
  virtual Status RemoveAll(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) const = 0;
  // chown -R to the named user and its primary group.
  virtual Status ChownRecursive(const std::string& path, const std::string& user) = 0;
};

class RealFileSystem final : public FileSystem {
 public:
  bool Exists(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  Result<std::string> ReadFile(const std::string& path) const override;
  Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode) override;
  Status ReplaceFile(const std::string& path, const std::string& data, mode_t mode) override;
  Status MakeDirs(const std::string& path, mode_t mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveAll(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) const override;
  Status ChownRecursive(const std::string& path, const std::string& user) override;

 private:
  Status WriteViaTemporary(const std::string& path, const std::string& data, mode_t mode,
                           bool durable);
};

}  // namespace manage::sys
