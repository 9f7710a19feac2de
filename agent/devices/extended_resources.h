// Extended resource names (the kubelet's IsExtendedResourceName) and the
// device requests a container makes through its resources.limits.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "api/k8s/container.h"

namespace berth::agent::devices {

// "vendor.com/widget": has a '/' prefix outside kubernetes.io, does not start
// with "requests.", and "requests.<name>" is a qualified name. Empty when
// valid, else why not.
std::string ExtendedResourceNameError(const std::string& name);
inline bool IsExtendedResourceName(const std::string& name) { return ExtendedResourceNameError(name).empty(); }

// resources.limits entries that are extended resources, as whole counts
// (devices are not divisible: "1500m" rounds up to 2, as Quantity::Value does).
std::map<std::string, int64_t> ExtendedResourceLimits(const k8s::Container& container);

}  // namespace berth::agent::devices
