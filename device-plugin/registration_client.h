// Register with the agent (or kubelet): Registration.Register on
// <device-plugins dir>/kubelet.sock, naming this plugin's socket.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace berth::gpu {

inline constexpr char kKubeletSocket[] = "kubelet.sock";
inline constexpr char kDevicePluginVersion[] = "v1beta1";

// Waits for the socket to accept (it may have been bound but not yet
// listening) up to `timeout`. AlreadyExists when the agent says this
// resource's plugin is registered and live (nothing to redo).
absl::Status RegisterWithKubelet(const std::string& plugin_dir, const std::string& socket_name,
                                 const std::string& resource_name, absl::Duration timeout);

}  // namespace berth::gpu
