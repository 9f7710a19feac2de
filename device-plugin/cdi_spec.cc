#include "device-plugin/cdi_spec.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "device-plugin/device_nodes.h"

namespace berth::gpu {
namespace {

using nlohmann::json;

json NodeJson(const DeviceNode& node) {
  return json{{"path", node.container_path}, {"hostPath", node.host_path}, {"type", std::string(1, node.type)},
              {"major", node.major},         {"minor", node.minor},        {"permissions", "rw"}};
}

json MountJson(const HostFile& f) {
  return json{{"hostPath", f.host_path},
              {"containerPath", f.container_path},
              {"options", json::array({"ro", "nosuid", "nodev", "bind"})}};
}

}  // namespace

std::string CdiDeviceName(const std::string& name) { return absl::StrCat(kCdiKind, "=", name); }

json BuildCdiSpec(const Inventory& inventory, const DriverFiles& files, const std::string& root) {
  json devices = json::array();
  for (const auto& gpu : inventory.gpus) {
    DeviceNode node;
    if (auto found = GpuDeviceNode(root, gpu)) {
      node = *found;
    } else {
      // Not made yet (nvidia-modprobe makes them on first use): the driver's
      // major 195 and the GPU's minor.
      node.container_path = absl::StrCat("/dev/nvidia", gpu.minor);
      node.host_path = gpu.device_path;
      node.major = 195;
      node.minor = static_cast<unsigned>(gpu.minor);
    }
    json edits = {{"deviceNodes", json::array({NodeJson(node)})}};
    devices.push_back({{"name", gpu.uuid}, {"containerEdits", edits}});
    devices.push_back({{"name", std::to_string(gpu.index)}, {"containerEdits", edits}});
  }
  json common_nodes = json::array();
  for (const auto& node : ControlDeviceNodes(root)) common_nodes.push_back(NodeJson(node));
  json mounts = json::array();
  for (const auto* list : {&files.libraries, &files.binaries, &files.others}) {
    for (const auto& f : *list) mounts.push_back(MountJson(f));
  }
  json common = json::object();
  common["env"] = json::array({"NVIDIA_DRIVER_CAPABILITIES=all"});
  if (!common_nodes.empty()) common["deviceNodes"] = common_nodes;
  if (!mounts.empty()) common["mounts"] = mounts;
  return json{{"cdiVersion", kCdiVersion}, {"kind", kCdiKind}, {"devices", devices}, {"containerEdits", common}};
}

absl::Status WriteCdiSpec(const std::string& path, const json& spec) {
  std::string clean = CleanPath(path);
  size_t slash = clean.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(Annotate(MkdirAll(clean.substr(0, slash)), "CDI spec dir"));
  }
  return Annotate(AtomicWriteFile(clean, spec.dump(2) + "\n", 0644), absl::StrCat("write CDI spec ", clean));
}

}  // namespace berth::gpu
