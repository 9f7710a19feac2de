#include "agent/prober/exec_prober.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace berth::agent::prober {

ProbeOutcome ExecProbe(const ExecInContainer& exec, const std::string& container_id,
                       const std::vector<std::string>& command, absl::Duration timeout) {
  if (!exec) return {ProbeResult::kUnknown, "no exec function configured"};
  auto res = exec(container_id, command, timeout);
  if (!res.ok()) {
    if (absl::IsDeadlineExceeded(res.status())) {
      return {ProbeResult::kFailure, absl::StrCat("command \"", absl::StrJoin(command, " "), "\" timed out after ",
                                                  absl::FormatDuration(timeout))};
    }
    return {ProbeResult::kUnknown, std::string(res.status().message())};
  }
  std::string output = std::move(res->output);
  if (output.size() > kMaxProbeOutputBytes) output.resize(kMaxProbeOutputBytes);
  return {res->exit_code == 0 ? ProbeResult::kSuccess : ProbeResult::kFailure, std::move(output)};
}

}  // namespace berth::agent::prober
