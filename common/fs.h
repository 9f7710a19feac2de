// Filesystem helpers shared by every binary: atomic writes, safe joins under
// a root, recursive mkdir and removal.
#pragma once

#include <sys/types.h>

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

// Reads a whole file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `data` to a temporary file beside `path`, fsyncs it when `durable`,
// and renames it over `path`, so a reader sees the old or the new content,
// never a mix, and a crash leaves no half-written file at `path`.
absl::Status AtomicWriteFile(const std::string& path, absl::string_view data, mode_t mode = 0644,
                             bool durable = true);

// Writes `data` to an existing file (a cgroup or /proc knob): open, write, close.
absl::Status WriteKnob(const std::string& path, absl::string_view data);

// mkdir -p.
absl::Status MkdirAll(const std::string& path, mode_t mode = 0755);

// rm -rf that never crosses into another filesystem mounted below `path`
// (it fails with EBUSY instead of deleting through a mount). A missing path is OK.
absl::Status RemoveAll(const std::string& path);

// Joins `relative` under `root` lexically: "..", "." and repeated slashes are
// resolved, and the result never leaves `root` ("../../etc" under /r is /r/etc),
// as a chroot would see it. Symlinks are not followed here.
std::string JoinUnderRoot(absl::string_view root, absl::string_view relative);

// Lexically cleans an absolute or relative path ("a//b/../c" -> "a/c").
std::string CleanPath(absl::string_view path);

bool PathExists(const std::string& path);

// The names in a directory, without "." and "..".
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path);

}  // namespace berth
