// Starting `berth-shim exec --bundle DIR [--tty] -- CMD...` with the
// streaming server's pipes or pty as its stdio, for StreamingRuntime::StartExec.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming {

// The shim runs in its own process group (so a kill reaches the exec tree),
// with fd 3 the returned error pipe. fds of -1 become /dev/null.
absl::StatusOr<ExecProcess> SpawnShimExec(const std::string& shim_path, const std::string& bundle,
                                          const std::vector<std::string>& cmd, bool tty, int stdin_fd,
                                          int stdout_fd, int stderr_fd);

}  // namespace berth::streaming
