// Starting berth-shim processes: `create` for a container (waits for the
// shim's ready line) and `exec` for ExecSync (collects output, enforces the
// timeout by killing the exec shim's process group).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth {

// Runs `<shim> create --bundle <bundle>` and waits for its ready line.
// Returns the container init's host pid; an `error <msg>` line becomes
// FailedPrecondition carrying the shim's message.
absl::StatusOr<int> LaunchShimCreate(const std::string& shim_path, const std::string& bundle,
                                     absl::Duration timeout);

// Runs `<shim> <args...>` and waits for it; a non-zero exit is an error.
absl::Status RunShimToCompletion(const std::string& shim_path, const std::vector<std::string>& args);

struct ExecResult {
  std::string stdout_data;
  std::string stderr_data;
  int exit_code = 0;
  bool timed_out = false;
};

// Runs `<shim> exec --bundle <bundle> -- <cmd...>`, capturing stdout and
// stderr. A zero timeout means none. A failure before the process could
// start (the shim's error pipe) is an error, not an exit code.
absl::StatusOr<ExecResult> RunShimExec(const std::string& shim_path, const std::string& bundle,
                                       const std::vector<std::string>& cmd, absl::Duration timeout);

}  // namespace berth
