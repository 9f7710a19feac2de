// `berth-shim pidns-init --pidfile FILE`: pid 1 of a pod's shared pid
// namespace, with no pause image: it only reaps orphans until SIGTERM/SIGINT.
#pragma once

#include <string>

namespace berth::shim {

// Returns the exit code of the calling (parent) process; the reaper child
// never returns from it.
int RunPidNamespaceInit(const std::string& pidfile);

}  // namespace berth::shim
