// An ExecInContainer over CRI ExecSync, for the agent to hand to the prober
// and the hook runner: `exec_sync` is its RuntimeService's ExecSync (in
// process or remote). The timeout goes to the runtime in whole seconds
// (rounded up; zero = none); the runtime's DeadlineExceeded stays a timeout.
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "agent/prober/exec_in_container.h"
#include "api/cri/api.pb.h"

namespace berth::agent::prober {

using ExecSyncFn =
    std::function<absl::Status(const ::runtime::v1::ExecSyncRequest& req, ::runtime::v1::ExecSyncResponse* resp)>;

ExecInContainer ExecViaExecSync(ExecSyncFn exec_sync);

}  // namespace berth::agent::prober
