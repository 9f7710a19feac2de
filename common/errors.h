// Status helpers: errno to absl::Status with context, and added context.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace berth {

// "<what>: <strerror(err)>", with a code that fits the errno
// (ENOENT -> NotFound, EEXIST -> AlreadyExists, EINVAL -> InvalidArgument,
// EACCES/EPERM -> PermissionDenied, else Internal).
absl::Status ErrnoError(int err, absl::string_view what);

// The same for the current errno.
absl::Status ErrnoError(absl::string_view what);

// The status with "<context>: " put before its message; OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace berth
