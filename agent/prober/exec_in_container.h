// How the prober and the hook runner run a command in a container without
// knowing the runtime: the agent backs this with CRI ExecSync.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::agent::prober {

struct ExecResult {
  int exit_code = 0;
  std::string output;  // stdout then stderr, as the kubelet joins them
};

// Runs `cmd` in the container and waits for it. `timeout` of zero means no
// limit (CRI ExecSync's convention). A command still running at the timeout
// must give absl::DeadlineExceededError; any other error status means the
// command could not be run at all (container gone, runtime down).
using ExecInContainer = std::function<absl::StatusOr<ExecResult>(
    const std::string& container_id, const std::vector<std::string>& cmd, absl::Duration timeout)>;

}  // namespace berth::agent::prober
