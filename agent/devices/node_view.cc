#include "agent/devices/node_view.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"

namespace berth::agent::devices {

nlohmann::json NodeJson(const std::string& node_name, const std::map<std::string, std::string>& base,
                        DeviceManager& devices) {
  nlohmann::json capacity = nlohmann::json::object(), allocatable = nlohmann::json::object();
  for (const auto& [name, value] : base) capacity[name] = allocatable[name] = value;
  nlohmann::json plugins = nlohmann::json::object();
  for (const auto& [name, view] : devices.Resources()) {
    capacity[name] = std::to_string(view.capacity);
    allocatable[name] = std::to_string(view.allocatable);
    plugins[name] = view.plugin_connected ? "connected" : "disconnected";
  }
  return {{"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", node_name}, {"annotations", {{kPluginsAnnotation, plugins.dump()}}}}},
          {"status", {{"capacity", capacity}, {"allocatable", allocatable}}}};
}

std::map<std::string, std::string> NodeBaseResources(int64_t max_pods) {
  std::map<std::string, std::string> out;
  out["cpu"] = std::to_string(sysconf(_SC_NPROCESSORS_ONLN));
  out["pods"] = std::to_string(max_pods);
  auto meminfo = ReadFile("/proc/meminfo");
  if (meminfo.ok()) {
    for (absl::string_view line : absl::StrSplit(*meminfo, '\n')) {
      if (!absl::StartsWith(line, "MemTotal:")) continue;
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() >= 2) out["memory"] = f[1] + "Ki";
    }
  }
  return out;
}

std::string AnnotatePodListJson(DeviceManager& devices, const std::string& pod_list) {
  nlohmann::json list = nlohmann::json::parse(pod_list, nullptr, false);
  if (list.is_discarded() || !list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    return pod_list;
  }
  bool changed = false;
  for (auto& item : list["items"]) {
    if (!item.is_object() || !item.contains("metadata")) continue;
    auto held = devices.PodDevices(item["metadata"].value("uid", std::string()));
    if (held.empty()) continue;
    item["metadata"]["annotations"][kAllocatedAnnotation] = nlohmann::json(held).dump();
    changed = true;
  }
  return changed ? list.dump() : pod_list;
}

HttpHandler WithDeviceEndpoints(HttpHandler inner, const std::string& node_name, int64_t max_pods,
                                DeviceManager* devices) {
  if (!devices) return inner;
  std::map<std::string, std::string> base = NodeBaseResources(max_pods);
  return [inner = std::move(inner), node_name, base, devices](const std::string& method,
                                                              const std::string& target) -> HttpResponse {
    std::string path = target.substr(0, target.find('?'));
    if (path == "/node" || path == "/node/") {
      return {200, "application/json", NodeJson(node_name, base, *devices).dump()};
    }
    HttpResponse response = inner(method, target);
    if ((path == "/pods" || path == "/pods/") && response.status == 200) {
      response.body = AnnotatePodListJson(*devices, response.body);
    }
    return response;
  };
}

}  // namespace berth::agent::devices
