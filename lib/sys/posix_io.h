// Small POSIX helpers shared by RealFileSystem and the local object store.
// All of them are stateless and safe to call from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace manage::sys {

// write(2) until all of `data` is written, retrying on EINTR.
Status WriteAll(int fd, std::string_view data, std::string_view what);
// fsync(2) of the directory at `dir`, so that a rename in it is durable.
Status SyncDir(const std::string& dir);
// mkdir -p with `mode` for the directories it creates; FailedPrecondition when
// `path` exists and is not a directory.
Status MakeDirectories(const std::string& path, mode_t mode);
// The directory part of `path`: "/a/b" -> "/a", "/a" -> "/", "a" -> ".".
std::string Dirname(const std::string& path);

}  // namespace manage::sys
