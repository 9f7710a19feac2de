#include "agent/prober/cri_exec.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace berth::agent::prober {

ExecInContainer ExecViaExecSync(ExecSyncFn exec_sync) {
  return [exec_sync = std::move(exec_sync)](const std::string& container_id, const std::vector<std::string>& cmd,
                                            absl::Duration timeout) -> absl::StatusOr<ExecResult> {
    ::runtime::v1::ExecSyncRequest req;
    req.set_container_id(container_id);
    for (const auto& arg : cmd) req.add_cmd(arg);
    if (timeout > absl::ZeroDuration()) {
      req.set_timeout(static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(timeout))));
    }
    ::runtime::v1::ExecSyncResponse resp;
    absl::Status st = exec_sync(req, &resp);
    if (!st.ok()) {
      if (absl::IsDeadlineExceeded(st)) return st;
      return absl::Status(st.code(), absl::StrCat("exec in container ", container_id, ": ", st.message()));
    }
    return ExecResult{resp.exit_code(), absl::StrCat(resp.stdout(), resp.stderr())};
  };
}

}  // namespace berth::agent::prober
