// Running one CNI plugin: finding its binary in the bin dirs, building its
// environment and stdin, spawning it with a deadline, and turning its stdout
// into a result or its CNI error object into a Status naming the plugin.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/cni/network_config.h"

namespace berth::cni {

inline constexpr char kDefaultBinDir[] = "/opt/cni/bin";

// What the CNI_* variables carry for one call.
struct PluginEnv {
  std::string command;       // ADD, DEL, CHECK, VERSION, STATUS, GC
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS (may be empty on DEL)
  std::string ifname;        // CNI_IFNAME
  std::vector<std::pair<std::string, std::string>> args;  // CNI_ARGS, "K=V;K=V"
  std::vector<std::string> bin_dirs;                       // CNI_PATH, ':'-joined
};

// The plugin's environment: `inherited` ("K=V", e.g. PATH for iptables)
// without any CNI_* entries, then the CNI_* variables of `env`. Empty values
// (netns on DEL, container id on STATUS) are left out.
std::vector<std::string> BuildPluginEnv(const PluginEnv& env,
                                        const std::vector<std::string>& inherited);

// The first executable <dir>/<type> in `bin_dirs`; NotFound naming the plugin
// and the dirs searched otherwise.
absl::StatusOr<std::string> FindPlugin(const std::string& type,
                                       const std::vector<std::string>& bin_dirs);

// The plugin's stdin: its own config with the list's name and cniVersion
// injected, prevResult when given (not null), and runtimeConfig holding each
// entry of `capability_args` whose key the plugin declares in "capabilities".
nlohmann::json BuildPluginStdin(const NetworkConfigList& list, const PluginConfig& plugin,
                                const nlohmann::json& prev_result,
                                const nlohmann::json& capability_args);

// The Status for a CNI error object ({code, msg, details}) printed by
// `plugin` for `command`: InvalidArgument for config/env/version errors
// (codes 1, 2, 4, 6, 7), NotFound for 3, Unavailable for 11, 50, 51,
// Internal otherwise.
absl::Status CniErrorToStatus(const nlohmann::json& error, const std::string& plugin,
                              const std::string& command, const std::string& stderr_text);

struct ProcessOutput {
  int exit_code = -1;  // or 128 + signal
  std::string out;
  std::string err;
};

// posix_spawn `path` with `env`, writes `input` to its stdin and collects
// stdout and stderr; kills it (SIGKILL) and fails with DeadlineExceeded
// when it runs past `timeout`.
absl::StatusOr<ProcessOutput> RunProcess(const std::string& path, const std::vector<std::string>& env,
                                         const std::string& input, absl::Duration timeout);

// Runs the plugin at `path` (named `type` in errors): its stdout as JSON
// (null when it printed nothing, as DEL may), or the Status of its CNI error.
absl::StatusOr<nlohmann::json> InvokePlugin(const std::string& path, const std::string& type,
                                            const PluginEnv& env, const nlohmann::json& stdin_json,
                                            absl::Duration timeout);

}  // namespace berth::cni
