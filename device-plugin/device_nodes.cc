#include "device-plugin/device_nodes.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "absl/strings/str_cat.h"
#include "common/fs.h"

namespace berth::gpu {

std::optional<DeviceNode> StatDeviceNode(const std::string& root, const std::string& container_path) {
  DeviceNode node;
  node.container_path = container_path;
  node.host_path = JoinUnderRoot(root, container_path);
  struct stat st;
  if (stat(node.host_path.c_str(), &st) != 0) return std::nullopt;
  if (S_ISCHR(st.st_mode)) {
    node.type = 'c';
  } else if (S_ISBLK(st.st_mode)) {
    node.type = 'b';
  } else {
    return std::nullopt;
  }
  node.major = major(st.st_rdev);
  node.minor = minor(st.st_rdev);
  return node;
}

std::vector<DeviceNode> ControlDeviceNodes(const std::string& root) {
  std::vector<DeviceNode> out;
  for (const char* path : {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"}) {
    if (auto node = StatDeviceNode(root, path)) out.push_back(*node);
  }
  return out;
}

std::optional<DeviceNode> GpuDeviceNode(const std::string& root, const Gpu& gpu) {
  return StatDeviceNode(root, absl::StrCat("/dev/nvidia", gpu.minor));
}

}  // namespace berth::gpu
