// CNI network configuration: the first *.conflist / *.conf / *.json in a
// conf dir (by name), parsed into a network list and validated.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace berth::cni {

inline constexpr char kDefaultConfDir[] = "/etc/cni/net.d";

// One plugin of a chain: its type and its configuration as written.
struct PluginConfig {
  std::string type;
  nlohmann::json raw;                       // the plugin's object from the file
  std::map<std::string, bool> capabilities; // "capabilities" (portMappings, dns, bandwidth, ...)
};

struct NetworkConfigList {
  std::string cni_version;
  std::string name;
  bool disable_check = false;
  std::vector<PluginConfig> plugins;
  std::string source;  // the file it came from
  nlohmann::json raw;  // the whole list, as a conflist (a .conf is wrapped)
};

// The cniVersions this client speaks: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0.
bool IsSupportedCniVersion(absl::string_view version);

// Compares dotted versions ("0.4.0" < "1.0.0"); unparsable parts count as 0.
int CompareCniVersions(absl::string_view a, absl::string_view b);

// Parses a conflist, or a single plugin config (no "plugins" key) as a
// one-plugin list. `source` names the file in errors.
absl::StatusOr<NetworkConfigList> ParseNetworkConfig(absl::string_view data,
                                                     const std::string& source);

// Parses `json` (already decoded) the same way.
absl::StatusOr<NetworkConfigList> NetworkConfigFromJson(const nlohmann::json& json,
                                                        const std::string& source);

// The first *.conflist / *.conf / *.json in `conf_dir` by name, parsed.
// NotFound when the dir has none; the parse error of that file otherwise.
absl::StatusOr<NetworkConfigList> LoadNetworkConfig(const std::string& conf_dir);

// OK when `conf_dir` holds a valid config; otherwise FailedPrecondition with
// the reason (no config, or the file's error), as CRI's NetworkReady wants.
absl::Status NetworkReady(const std::string& conf_dir);

}  // namespace berth::cni
