// berth-shim's last step after a successful create: exec berth-shim-monitor
// (same pid, so the container init stays its child) with the fds and state
// of MonitorArgs. The monitor is opened before the init is created, so a
// missing one fails `create`; the exec itself comes after "ok <pid>" went to
// the runtime, so that its cost overlaps the runtime's next call.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "runtime-shim/shim/fd.h"
#include "runtime-shim/shim/monitor_args.h"

namespace berth::shim {

// This executable (/proc/self/exe), empty when unknown.
std::string SelfPath();

// berth-shim-monitor next to this executable.
std::string MonitorPath();

// Opens `monitor_path` (O_PATH, CLOEXEC) for ExecMonitor.
absl::Status OpenMonitor(const std::string& monitor_path, UniqueFd* monitor);

// Clears CLOEXEC on the fds in `args` and execs the opened monitor with an
// empty environment; returns only on failure.
absl::Status ExecMonitor(const UniqueFd& monitor, const std::string& monitor_path,
                         const MonitorArgs& args);

}  // namespace berth::shim
