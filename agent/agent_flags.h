// berth-agent's command line: flags with defaults from DESIGN.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/cri/runtime.h"

namespace berth {

struct AgentFlags {
  std::string listen = "unix:///run/berth/berth.sock";
  RuntimeOptions runtime;
  std::string log_level = "info";
  // Registry mirrors, auth, CA files, insecure hosts; a missing file at the
  // default path is an empty config, at a path given by flag an error.
  std::string registry_config = "/etc/berth/registries.yaml";
  bool registry_config_set = false;
  // Archives placed here are imported (default <state-dir>/images/import;
  // empty: no watcher).
  std::string image_import_dir;
  bool repair = false;                  // images check --repair
  // KubeletConfiguration file and the kubelet flags given (agent/config applies them).
  std::string config_file;
  std::map<std::string, std::string> kubelet_flags;
  std::vector<std::string> positional;  // subcommand and its arguments
  // Cluster membership (agent/cluster): the API server and credentials as a
  // kubeconfig names them (empty: static pods only), and the InternalIP to
  // report (empty: the first global IPv4 address).
  std::string kubeconfig;
  std::string node_ip;
};

// Parses `--name value` and `--name=value`; unknown flags are errors naming them.
absl::StatusOr<AgentFlags> ParseAgentFlags(int argc, char** argv);

// berth-shim next to this executable (or on PATH).
std::string DefaultShimPath();

extern const char kAgentUsage[];

}  // namespace berth
