#include "sys/posix_error.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace manage::sys {

Status PosixError(std::string_view what, int err) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
    case EEXIST:
    case ENOTEMPTY:
    case ENOTDIR:
    case EISDIR:
    case EXDEV:
      return Status::FailedPrecondition(std::move(msg));
    case ENOSPC:
    case EDQUOT:
    case EAGAIN:
    case EINTR:
    case EBUSY:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return Status::Unavailable(std::move(msg));
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

}  // namespace manage::sys
