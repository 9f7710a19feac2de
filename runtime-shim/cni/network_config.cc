#include "runtime-shim/cni/network_config.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::cni {
namespace {

absl::Status FieldError(const std::string& source, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("CNI config ", source, ": ", field, ": ", what));
}

absl::StatusOr<std::string> RequiredString(const nlohmann::json& object, const char* key,
                                           const std::string& source, absl::string_view field) {
  auto it = object.find(key);
  if (it == object.end()) return FieldError(source, field, "missing");
  if (!it->is_string()) return FieldError(source, field, "must be a string");
  std::string value = it->get<std::string>();
  if (value.empty()) return FieldError(source, field, "must not be empty");
  return value;
}

absl::StatusOr<PluginConfig> ParsePlugin(const nlohmann::json& object, const std::string& source,
                                         const std::string& field) {
  if (!object.is_object()) return FieldError(source, field, "must be an object");
  PluginConfig plugin;
  ASSIGN_OR_RETURN(plugin.type, RequiredString(object, "type", source, field + ".type"));
  if (plugin.type.find('/') != std::string::npos || plugin.type == "." || plugin.type == "..") {
    return FieldError(source, field + ".type", absl::StrCat("\"", plugin.type, "\" is not a plugin name"));
  }
  if (auto caps = object.find("capabilities"); caps != object.end()) {
    if (!caps->is_object()) return FieldError(source, field + ".capabilities", "must be an object");
    for (const auto& [key, value] : caps->items()) {
      if (!value.is_boolean()) {
        return FieldError(source, absl::StrCat(field, ".capabilities.", key), "must be a boolean");
      }
      plugin.capabilities[key] = value.get<bool>();
    }
  }
  plugin.raw = object;
  return plugin;
}

}  // namespace

bool IsSupportedCniVersion(absl::string_view version) {
  return version == "0.3.0" || version == "0.3.1" || version == "0.4.0" || version == "1.0.0" ||
         version == "1.1.0";
}

int CompareCniVersions(absl::string_view a, absl::string_view b) {
  std::vector<absl::string_view> pa = absl::StrSplit(a, '.');
  std::vector<absl::string_view> pb = absl::StrSplit(b, '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    int x = 0, y = 0;
    if (i < pa.size() && !absl::SimpleAtoi(pa[i], &x)) x = 0;
    if (i < pb.size() && !absl::SimpleAtoi(pb[i], &y)) y = 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

absl::StatusOr<NetworkConfigList> NetworkConfigFromJson(const nlohmann::json& json,
                                                        const std::string& source) {
  if (!json.is_object()) return FieldError(source, "(top level)", "must be a JSON object");
  NetworkConfigList list;
  list.source = source;
  ASSIGN_OR_RETURN(list.cni_version, RequiredString(json, "cniVersion", source, "cniVersion"));
  if (!IsSupportedCniVersion(list.cni_version)) {
    return FieldError(source, "cniVersion",
                      absl::StrCat("unsupported version \"", list.cni_version,
                                   "\" (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)"));
  }
  ASSIGN_OR_RETURN(list.name, RequiredString(json, "name", source, "name"));
  if (list.name.find('/') != std::string::npos) {
    return FieldError(source, "name", absl::StrCat("\"", list.name, "\" must not contain '/'"));
  }
  if (auto it = json.find("disableCheck"); it != json.end()) {
    if (!it->is_boolean()) return FieldError(source, "disableCheck", "must be a boolean");
    list.disable_check = it->get<bool>();
  }
  auto plugins = json.find("plugins");
  if (plugins == json.end()) {
    // A single plugin config (.conf): a one-plugin list.
    ASSIGN_OR_RETURN(PluginConfig plugin, ParsePlugin(json, source, "(plugin)"));
    nlohmann::json plugin_raw = json;
    plugin_raw.erase("cniVersion");
    plugin_raw.erase("name");
    plugin.raw = plugin_raw;
    list.plugins.push_back(std::move(plugin));
    list.raw = {{"cniVersion", list.cni_version}, {"name", list.name}, {"plugins", {plugin_raw}}};
    return list;
  }
  if (!plugins->is_array()) return FieldError(source, "plugins", "must be an array");
  if (plugins->empty()) return FieldError(source, "plugins", "must not be empty");
  for (size_t i = 0; i < plugins->size(); ++i) {
    ASSIGN_OR_RETURN(PluginConfig plugin,
                     ParsePlugin((*plugins)[i], source, absl::StrCat("plugins[", i, "]")));
    list.plugins.push_back(std::move(plugin));
  }
  list.raw = json;
  return list;
}

absl::StatusOr<NetworkConfigList> ParseNetworkConfig(absl::string_view data,
                                                     const std::string& source) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(data.begin(), data.end());
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("CNI config ", source, ": malformed JSON at byte ", e.byte, ": ", e.what()));
  }
  return NetworkConfigFromJson(json, source);
}

absl::StatusOr<NetworkConfigList> LoadNetworkConfig(const std::string& conf_dir) {
  auto names = ListDir(conf_dir);
  if (!names.ok()) {
    return absl::NotFoundError(absl::StrCat("no CNI config: read ", conf_dir, ": ",
                                            names.status().message()));
  }
  std::vector<std::string> candidates;
  for (const auto& name : *names) {
    if (absl::EndsWith(name, ".conflist") || absl::EndsWith(name, ".conf") ||
        absl::EndsWith(name, ".json")) {
      candidates.push_back(name);
    }
  }
  if (candidates.empty()) {
    return absl::NotFoundError(absl::StrCat("no CNI config (*.conflist, *.conf, *.json) in ", conf_dir));
  }
  std::sort(candidates.begin(), candidates.end());
  std::string path = absl::StrCat(conf_dir, "/", candidates.front());
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return ParseNetworkConfig(data, path);
}

absl::Status NetworkReady(const std::string& conf_dir) {
  auto list = LoadNetworkConfig(conf_dir);
  if (list.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("NetworkPluginNotReady: ", list.status().message()));
}

}  // namespace berth::cni
