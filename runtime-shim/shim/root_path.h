// Resolving a container path under the rootfs on the host, following the
// image's symlinks as the container would see them, so that a symlink such
// as /etc -> /../../host cannot send a mount outside the rootfs.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace berth::shim {

// `root` joined with `path`, with every symlink met on the way resolved
// relative to `root` (absolute targets restart at `root`, ".." stops at it).
// Components that do not exist yet are appended lexically. More than 40
// symlinks is ELOOP.
absl::StatusOr<std::string> ResolveInRoot(const std::string& root, const std::string& path);

}  // namespace berth::shim
