// berth-shim's last step after a successful create: exec berth-shim-monitor
// (same pid, so the container init stays its child) with the fds and state
// of MonitorArgs. The monitor reports "ok <pid>" on the ready pipe.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "runtime-shim/shim/monitor_args.h"

namespace berth::shim {

// berth-shim-monitor next to this executable (/proc/self/exe).
std::string MonitorPath();

// Clears CLOEXEC on the fds in `args` and execs the monitor with an empty
// environment; returns only on failure.
absl::Status ExecMonitor(const std::string& monitor_path, const MonitorArgs& args);

}  // namespace berth::shim
