// Which cgroup hierarchies a host has, found the way the kubelet finds them:
// statfs on the root, then the cgroup mounts in mountinfo.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth {

struct CgroupLayout {
  int version = 1;
  std::string root;
  // v1 only: controller ("cpu", "memory", "name=systemd", ...) -> mount dir.
  // Co-mounted controllers ("cpu,cpuacct") map to the same dir.
  std::map<std::string, std::string> v1_mounts;
  // The cgroup2 mount: the root on v2, e.g. <root>/unified on a hybrid v1 host,
  // empty when there is none.
  std::string unified_dir;
  // Controllers offered by the cgroup2 root (its cgroup.controllers).
  std::set<std::string> unified_controllers;

  // The distinct v1 mount dirs, sorted.
  std::vector<std::string> V1Dirs() const;
  // The v1 mount dir of `controller`, or "" when it has none.
  std::string V1Dir(const std::string& controller) const;
};

// Builds the layout from a mountinfo text: every cgroup/cgroup2 mount at or under `root`.
// A cgroup2 mount at `root` itself (or `root_is_cgroup2`) means v2.
CgroupLayout ParseCgroupLayout(const std::string& root, const std::string& mountinfo,
                               bool root_is_cgroup2);

// Detects the layout under `root`, reading `mountinfo_path`; when that names no
// cgroup mount under `root`, falls back to the well-known dir names in `root`.
// Reads the unified root's cgroup.controllers.
absl::StatusOr<CgroupLayout> DetectCgroupLayout(const std::string& root,
                                                const std::string& mountinfo_path);

// "systemd" when <proc_root>/1/comm is "systemd" and `systemd_run_dir` exists,
// else "cgroupfs".
std::string DetectCgroupDriver(const std::string& proc_root, const std::string& systemd_run_dir);

}  // namespace berth
