// The process side of entering a container, shared by the container init and
// `berth-shim exec`: cgroups, user and capabilities, no_new_privs, seccomp,
// and the final execve.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {

// Writes "0" (this process) to <dir>/cgroup.procs for each of spec.cgroup_dirs.
absl::Status JoinCgroups(const ContainerSpec& spec);

// Switches user and capabilities, sets no_new_privs, then loads the seccomp
// profile (`seccomp_profile` empty: none). Call as late as possible.
absl::Status ApplyProcessSecurity(const ContainerSpec& spec, const std::string& seccomp_profile);

// Signal mask cleared and SIGPIPE back to default: both survive execve.
void ResetSignalsForExec();

// execve of args (args[0] already resolved to `path`) with spec.env.
// Returns only on failure.
absl::Status ExecContainerProcess(const std::string& path, const ContainerSpec& spec,
                                  const std::vector<std::string>& args);

}  // namespace berth::shim
