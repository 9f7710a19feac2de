// The NVIDIA device nodes a container needs: /dev/nvidia<minor> per GPU and
// the control nodes every GPU container shares.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "device-plugin/gpu.h"

namespace berth::gpu {

struct DeviceNode {
  std::string container_path;  // "/dev/nvidiactl"
  std::string host_path;       // under --root
  char type = 'c';
  unsigned major = 0;
  unsigned minor = 0;
};

// The node at <root><container_path> when it is a character or block device.
std::optional<DeviceNode> StatDeviceNode(const std::string& root, const std::string& container_path);

// /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools, /dev/nvidia-modeset:
// those that exist under `root`.
std::vector<DeviceNode> ControlDeviceNodes(const std::string& root);

// The GPU's /dev/nvidia<minor>, when it exists.
std::optional<DeviceNode> GpuDeviceNode(const std::string& root, const Gpu& gpu);

}  // namespace berth::gpu
