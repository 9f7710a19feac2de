// `berth-shim compress-log FILE`: gzips a rotated CRI log for
// berth-shim-monitor (which links no zlib) into FILE.gz and removes FILE.
// The monitor may prune FILE meanwhile; then nothing is left behind.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace berth::shim {

// Writes `path`.gz through a hidden temp file in the same directory
// (".<name>.gz.tmp", so it never matches the log's own name pattern),
// renames it into place and unlinks `path`. If `path` was deleted before the
// end, the .gz is removed too.
absl::Status CompressLogFile(const std::string& path);

}  // namespace berth::shim
