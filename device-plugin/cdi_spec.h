// The CDI spec berth-gpu-plugin writes at start (default
// /var/run/cdi/berth-nvidia.json): kind nvidia.com/gpu, one device per GPU
// named by its UUID and one named by its index, each with its
// /dev/nvidia<minor>; common edits with the control device nodes and the
// driver's libraries, binaries and files bind-mounted read-only.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "device-plugin/driver_files.h"
#include "device-plugin/gpu.h"

namespace berth::gpu {

inline constexpr char kCdiKind[] = "nvidia.com/gpu";
inline constexpr char kCdiVersion[] = "0.5.0";

// "nvidia.com/gpu=<name>".
std::string CdiDeviceName(const std::string& name);

nlohmann::json BuildCdiSpec(const Inventory& inventory, const DriverFiles& files, const std::string& root);

// Writes the spec atomically (its dir made when missing).
absl::Status WriteCdiSpec(const std::string& path, const nlohmann::json& spec);

}  // namespace berth::gpu
