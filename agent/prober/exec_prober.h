// exec probe: the command run in the container through ExecInContainer; exit
// code 0 is a success, another exit code a failure, running past the timeout
// a failure ("command ... timed out"), and a command that could not run at all
// kUnknown with the error (the prober retries and then drops the result).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/prober/exec_in_container.h"
#include "agent/prober/probe_result.h"

namespace berth::agent::prober {

ProbeOutcome ExecProbe(const ExecInContainer& exec, const std::string& container_id,
                       const std::vector<std::string>& command, absl::Duration timeout);

}  // namespace berth::agent::prober
