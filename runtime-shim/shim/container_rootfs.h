// The container's filesystem view, built inside its new mount namespace:
// overlay rootfs, the standard /proc, /dev, /sys mounts, the spec's mounts
// and devices, pivot_root, then masked and read-only paths.
#pragma once

#include "absl/status/status.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {

struct RootfsOptions {
  bool new_net_ns = true;  // fresh sysfs when true, else a read-only bind of the host's /sys
};

// Must run in a private mount namespace (the container init after clone).
// On return the process's root is the container rootfs and its cwd is "/".
absl::Status SetupContainerRootfs(const ContainerSpec& spec, const RootfsOptions& options);

// The overlay mount data: "lowerdir=a:b,upperdir=u,workdir=w".
std::string OverlayMountData(const ContainerSpec& spec);

}  // namespace berth::shim
