#include "device-plugin/sharing_config.h"

#include <nlohmann/json.hpp>

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/k8s/codec.h"

namespace berth::gpu {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", why));
}

absl::Status OnlyKeys(const json& obj, const std::string& path, std::initializer_list<const char*> keys) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) return Bad(path.empty() ? it.key() : path + "." + it.key(), "unknown key");
  }
  return absl::OkStatus();
}

absl::StatusOr<SharingRule> ParseRule(const json& r, const std::string& path, const std::string& resource_name) {
  if (!r.is_object()) return Bad(path, "want a mapping with name and replicas");
  if (auto s = OnlyKeys(r, path, {"name", "rename", "replicas", "devices"}); !s.ok()) return s;
  SharingRule rule;
  rule.path = path;
  if (!r.contains("name") || !r["name"].is_string()) return Bad(path + ".name", "want the resource name, a string");
  std::string name = r["name"].get<std::string>();
  if (name != resource_name) {
    return Bad(path + ".name", absl::StrCat("\"", name, "\" is not the resource this plugin serves (", resource_name, ")"));
  }
  if (r.contains("rename")) return Bad(path + ".rename", "renaming a shared resource is not supported");
  if (!r.contains("replicas") || !r["replicas"].is_number_integer()) {
    return Bad(path + ".replicas", "want an integer >= 1");
  }
  long long replicas = r["replicas"].get<long long>();
  if (replicas < 1 || replicas > 1024) {
    return Bad(path + ".replicas", absl::StrCat(replicas, " is out of range, want 1..1024"));
  }
  rule.replicas = static_cast<int>(replicas);
  if (r.contains("devices")) {
    const json& d = r["devices"];
    std::string key = path + ".devices";
    if (d.is_string()) {
      if (d.get<std::string>() != "all") return Bad(key, absl::StrCat("\"", d.get<std::string>(), "\": want all, a count or a list"));
    } else if (d.is_number_integer()) {
      if (d.get<long long>() < 1) return Bad(key, absl::StrCat(d.get<long long>(), ": a count must be >= 1"));
      rule.devices = SharingRule::Devices::kCount;
      rule.count = static_cast<int>(d.get<long long>());
    } else if (d.is_array()) {
      if (d.empty()) return Bad(key, "an empty list names no GPU");
      rule.devices = SharingRule::Devices::kList;
      for (size_t i = 0; i < d.size(); ++i) {
        std::string item_key = absl::StrCat(key, "[", i, "]");
        if (d[i].is_number_integer()) {
          if (d[i].get<long long>() < 0) return Bad(item_key, "a GPU index must be >= 0");
          rule.selectors.push_back(std::to_string(d[i].get<long long>()));
        } else if (d[i].is_string() && !d[i].get<std::string>().empty()) {
          rule.selectors.push_back(d[i].get<std::string>());
        } else {
          return Bad(item_key, "want a GPU index or UUID");
        }
      }
    } else {
      return Bad(key, "want all, a count or a list of GPU indexes and UUIDs");
    }
  }
  return rule;
}

}  // namespace

absl::StatusOr<SharingConfig> ParseSharingConfig(absl::string_view text, const std::string& resource_name) {
  SharingConfig config;
  if (absl::StripAsciiWhitespace(text).empty()) return config;
  auto docs = k8s::YamlToJson(std::string_view(text.data(), text.size()));
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return config;
  if (docs->size() > 1) return Bad("config", "want one YAML document");
  const json& root = (*docs)[0];
  if (root.is_null()) return config;
  if (!root.is_object()) return Bad("config", "want a mapping at the top");
  if (auto s = OnlyKeys(root, "", {"version", "flags", "sharing"}); !s.ok()) return s;
  if (root.contains("version") && root["version"] != "v1") {
    return Bad("version", absl::StrCat(root["version"].dump(), ": want v1"));
  }
  if (!root.contains("sharing") || root["sharing"].is_null()) return config;
  const json& sharing = root["sharing"];
  if (!sharing.is_object()) return Bad("sharing", "want a mapping");
  if (auto s = OnlyKeys(sharing, "sharing", {"timeSlicing"}); !s.ok()) return s;
  if (!sharing.contains("timeSlicing") || sharing["timeSlicing"].is_null()) return config;
  const json& ts = sharing["timeSlicing"];
  if (!ts.is_object()) return Bad("sharing.timeSlicing", "want a mapping");
  if (auto s = OnlyKeys(ts, "sharing.timeSlicing", {"renameByDefault", "failRequestsGreaterThanOne", "resources"});
      !s.ok()) {
    return s;
  }
  if (ts.contains("renameByDefault")) {
    if (!ts["renameByDefault"].is_boolean()) return Bad("sharing.timeSlicing.renameByDefault", "want true or false");
    if (ts["renameByDefault"].get<bool>()) {
      return Bad("sharing.timeSlicing.renameByDefault", "renaming shared resources is not supported");
    }
  }
  if (ts.contains("failRequestsGreaterThanOne")) {
    if (!ts["failRequestsGreaterThanOne"].is_boolean()) {
      return Bad("sharing.timeSlicing.failRequestsGreaterThanOne", "want true or false");
    }
    config.fail_requests_greater_than_one = ts["failRequestsGreaterThanOne"].get<bool>();
  }
  if (!ts.contains("resources") || ts["resources"].is_null()) return config;
  if (!ts["resources"].is_array()) return Bad("sharing.timeSlicing.resources", "want a list");
  for (size_t i = 0; i < ts["resources"].size(); ++i) {
    auto rule = ParseRule(ts["resources"][i], absl::StrCat("sharing.timeSlicing.resources[", i, "]"), resource_name);
    if (!rule.ok()) return rule.status();
    config.rules.push_back(*std::move(rule));
  }
  return config;
}

absl::StatusOr<std::vector<int>> ResolveReplicas(const SharingConfig& config, const std::vector<Gpu>& gpus) {
  std::vector<int> replicas(gpus.size(), 1);
  std::vector<std::string> named_by(gpus.size());
  const SharingRule* all_rule = nullptr;
  for (const auto& rule : config.rules) {
    std::vector<size_t> targets;
    if (rule.devices == SharingRule::Devices::kAll) {
      if (all_rule != nullptr) {
        return Bad(rule.path + ".devices", absl::StrCat("all GPUs are already shared by ", all_rule->path));
      }
      all_rule = &rule;
      continue;
    }
    if (rule.devices == SharingRule::Devices::kCount) {
      if (static_cast<size_t>(rule.count) > gpus.size()) {
        return Bad(rule.path + ".devices", absl::StrCat(rule.count, " GPUs asked for, the node has ", gpus.size()));
      }
      for (int i = 0; i < rule.count; ++i) targets.push_back(static_cast<size_t>(i));
    } else {
      for (size_t k = 0; k < rule.selectors.size(); ++k) {
        const std::string& sel = rule.selectors[k];
        int index = -1;
        bool is_index = absl::SimpleAtoi(sel, &index);
        size_t found = gpus.size();
        for (size_t g = 0; g < gpus.size(); ++g) {
          if ((is_index && gpus[g].index == index) || gpus[g].uuid == sel) found = g;
        }
        if (found == gpus.size()) {
          return Bad(absl::StrCat(rule.path, ".devices[", k, "]"), absl::StrCat("no GPU with ", is_index ? "index " : "UUID ", sel));
        }
        targets.push_back(found);
      }
    }
    for (size_t g : targets) {
      if (!named_by[g].empty()) {
        return Bad(rule.path + ".devices",
                   absl::StrCat("GPU ", gpus[g].index, " (", gpus[g].uuid, ") is already shared by ", named_by[g]));
      }
      named_by[g] = rule.path;
      replicas[g] = rule.replicas;
    }
  }
  if (all_rule != nullptr) {
    for (size_t g = 0; g < gpus.size(); ++g) {
      if (named_by[g].empty()) replicas[g] = all_rule->replicas;
    }
  }
  return replicas;
}

}  // namespace berth::gpu
