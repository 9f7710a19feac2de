// `berth-agent pods`: the agent's pods as a table (NAME READY STATUS RESTARTS
// AGE), read from its /pods endpoint on the healthz address.
#pragma once

#include "agent/config/kubelet_config.h"

namespace berth::agent {

// Prints the table to stdout; returns the process exit code.
int RunPodsCommand(const KubeletConfig& config, bool json);

}  // namespace berth::agent
