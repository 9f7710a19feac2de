// The systemd driver: cgroups as transient systemd slices over sd-bus, with the
// knobs systemd does not manage written by the cgroupfs manager underneath.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/cgroups/cgroup_layout.h"
#include "runtime-shim/cgroups/cgroup_manager.h"

namespace berth {

// The cgroup path systemd gives a slice: "a-b-c.slice" ->
// "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root "/".
absl::StatusOr<std::string> ExpandSlicePath(const std::string& slice);

// The unit for a name: "x.slice" as is, "<parent>.slice:<prefix>:<id>" (the
// runc/kubelet form for containers) as the child slice
// "<parent-without-.slice>-<prefix>_<id>.slice".
absl::StatusOr<std::string> SystemdUnitForName(const std::string& name);

// Device cgroup rules ("c 195:0 rw", "c 195:* m", "b *:* m", "a") as
// systemd DeviceAllow entries: "/dev/char/195:0", "char-<name from
// /proc/devices>", "block-*"; nullopt when a rule allows every device. The
// driver sends them with DevicePolicy=strict so that a daemon-reload, which
// re-applies unit properties to the cgroup, keeps the container's devices.
std::optional<std::vector<std::pair<std::string, std::string>>> DeviceAllowEntries(
    const std::vector<std::string>& rules);

// Connects to `dbus_address` (empty: the system bus) and subscribes to job events.
// `fs` is the cgroupfs manager for this host's layout.
absl::StatusOr<std::unique_ptr<CgroupManager>> NewSystemdCgroupManager(
    const CgroupLayout& layout, std::unique_ptr<CgroupManager> fs, const std::string& dbus_address);

}  // namespace berth
