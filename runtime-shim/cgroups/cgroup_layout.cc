#include "runtime-shim/cgroups/cgroup_layout.h"

#include <linux/magic.h>
#include <sys/statfs.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"

namespace berth {

namespace {

// The v1 controller names that may appear in a cgroup mount's super options.
const std::set<std::string>& KnownV1Controllers() {
  static const std::set<std::string> kNames = {
      "cpu",     "cpuacct", "cpuset",    "memory",  "devices", "freezer", "net_cls",
      "net_prio", "blkio",  "perf_event", "hugetlb", "pids",   "rdma",    "misc"};
  return kNames;
}

bool IsAtOrUnder(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

// mountinfo escapes space, tab, newline and backslash as octal.
std::string UnescapeMountPath(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        if (s[i + j] < '0' || s[i + j] > '7') {
          ok = false;
          break;
        }
        v = v * 8 + (s[i + j] - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::vector<std::string> CgroupLayout::V1Dirs() const {
  std::set<std::string> dirs;
  for (const auto& [controller, dir] : v1_mounts) dirs.insert(dir);
  return {dirs.begin(), dirs.end()};
}

std::string CgroupLayout::V1Dir(const std::string& controller) const {
  auto it = v1_mounts.find(controller);
  return it == v1_mounts.end() ? "" : it->second;
}

CgroupLayout ParseCgroupLayout(const std::string& root_in, const std::string& mountinfo,
                               bool root_is_cgroup2) {
  CgroupLayout layout;
  layout.root = CleanPath(root_in);
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    size_t dash = 0;
    for (size_t i = 6; i < fields.size(); ++i) {
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    }
    if (dash == 0 || dash + 2 >= fields.size()) continue;
    absl::string_view fstype = fields[dash + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    std::string mountpoint = CleanPath(UnescapeMountPath(fields[4]));
    if (!IsAtOrUnder(mountpoint, layout.root)) continue;
    if (fstype == "cgroup2") {
      layout.unified_dir = mountpoint;
      if (mountpoint == layout.root) root_is_cgroup2 = true;
      continue;
    }
    absl::string_view super_options = dash + 3 < fields.size() ? fields[dash + 3] : "";
    for (absl::string_view option : absl::StrSplit(super_options, ',')) {
      std::string name(option);
      if (KnownV1Controllers().count(name) > 0 || absl::StartsWith(name, "name=")) {
        layout.v1_mounts[name] = mountpoint;
      }
    }
  }
  if (root_is_cgroup2) {
    layout.version = 2;
    layout.unified_dir = layout.root;
    layout.v1_mounts.clear();
  }
  return layout;
}

absl::StatusOr<CgroupLayout> DetectCgroupLayout(const std::string& root,
                                                const std::string& mountinfo_path) {
  struct statfs fs;
  if (::statfs(root.c_str(), &fs) != 0) return ErrnoError(absl::StrCat("statfs ", root));
  bool root_is_cgroup2 = fs.f_type == CGROUP2_SUPER_MAGIC;
  CgroupLayout layout;
  if (root_is_cgroup2) {
    layout = ParseCgroupLayout(root, "", true);
  } else {
    absl::StatusOr<std::string> mountinfo = ReadFile(mountinfo_path);
    if (!mountinfo.ok()) return mountinfo.status();
    layout = ParseCgroupLayout(root, *mountinfo, false);
    if (layout.version == 1 && layout.v1_mounts.empty()) {
      // No mounts listed (a chroot, a fake tree): take the well-known names.
      static const char* kDirs[] = {"cpu",     "cpuacct", "cpu,cpuacct", "cpuset", "memory",
                                    "devices", "freezer", "blkio",       "pids",   "hugetlb"};
      for (const char* dir : kDirs) {
        std::string path = JoinUnderRoot(layout.root, dir);
        if (!PathExists(path)) continue;
        for (absl::string_view controller : absl::StrSplit(dir, ',')) {
          layout.v1_mounts[std::string(controller)] = path;
        }
      }
      if (PathExists(JoinUnderRoot(layout.root, "systemd"))) {
        layout.v1_mounts["name=systemd"] = JoinUnderRoot(layout.root, "systemd");
      }
      if (layout.unified_dir.empty() && PathExists(JoinUnderRoot(layout.root, "unified"))) {
        layout.unified_dir = JoinUnderRoot(layout.root, "unified");
      }
    }
  }
  if (layout.version == 1 && layout.v1_mounts.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("no cgroup hierarchies found under ", root));
  }
  if (!layout.unified_dir.empty()) {
    absl::StatusOr<std::string> controllers =
        ReadFile(absl::StrCat(layout.unified_dir, "/cgroup.controllers"));
    if (controllers.ok()) {
      for (absl::string_view c : absl::StrSplit(*controllers, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
        layout.unified_controllers.insert(std::string(c));
      }
    }
  }
  return layout;
}

std::string DetectCgroupDriver(const std::string& proc_root, const std::string& systemd_run_dir) {
  absl::StatusOr<std::string> comm = ReadFile(absl::StrCat(proc_root, "/1/comm"));
  if (comm.ok() && absl::StripAsciiWhitespace(*comm) == "systemd" && PathExists(systemd_run_dir)) {
    return "systemd";
  }
  return "cgroupfs";
}

}  // namespace berth
