// berth-agent's command line: flags with defaults from DESIGN.md.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/cri/runtime.h"

namespace berth {

struct AgentFlags {
  std::string listen = "unix:///run/berth/berth.sock";
  RuntimeOptions runtime;
  std::string log_level = "info";
  std::vector<std::string> positional;  // subcommand and its arguments
};

// Parses `--name value` and `--name=value`; unknown flags are errors naming them.
absl::StatusOr<AgentFlags> ParseAgentFlags(int argc, char** argv);

// berth-shim next to this executable (or on PATH).
std::string DefaultShimPath();

extern const char kAgentUsage[];

}  // namespace berth
