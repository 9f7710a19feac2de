// `berth-agent images ...`: the image store for a person at the node
// (import, list, pull, rm, check [--repair], resolve), and the registry
// configuration the agent and these commands share.
#pragma once

#include "absl/status/statusor.h"
#include "agent/agent_flags.h"
#include "runtime-shim/image/registry/registry_client.h"

namespace berth {

// --registry-config (missing is fine at the default path) merged with
// --insecure-registry.
absl::StatusOr<image::registry::RegistryConfig> LoadAgentRegistryConfig(const AgentFlags& flags);

// Runs `images <subcommand> ...` (flags.positional[0] == "images"); returns
// the exit status: 0 done (check: nothing found / nothing remains), 1 failed
// (check: problems found / remain), 2 usage.
int RunImagesCommand(const AgentFlags& flags);

}  // namespace berth
