// The one place where errno values become Status codes, for every module that
// calls POSIX directly (filesystem, process runner, local object store).
#pragma once

#include <string_view>

#include "core/status.h"

namespace manage::sys {

// "<what>: <strerror(err)>" with a code chosen from err: ENOENT is NotFound,
// permission problems FailedPrecondition, a full disk or EINTR/EAGAIN
// Unavailable, bad names InvalidArgument, anything else Internal.
Status PosixError(std::string_view what, int err);

}  // namespace manage::sys
