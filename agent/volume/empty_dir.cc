#include "agent/volume/empty_dir.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/volume/mount_table.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::agent::volume {

absl::Status ValidateEmptyDir(const k8s::EmptyDirVolumeSource& source, const std::string& field) {
  if (source.medium.empty() || source.medium == "Memory") {
    if (source.sizeLimit && source.sizeLimit->Cmp(k8s::Quantity()) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".sizeLimit: Invalid value: \"",
                                                     source.sizeLimit->String(), "\": must be greater than zero"));
    }
    return absl::OkStatus();
  }
  if (source.medium.rfind("HugePages", 0) == 0) {
    return absl::UnimplementedError(
        absl::StrCat(field, ".medium: Unsupported value: \"", source.medium, "\": hugepages are not supported yet"));
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ".medium: Unsupported value: \"", source.medium,
                                                 "\": supported values: \"\", \"Memory\""));
}

namespace {

// The pod's memory limit as its cgroup gets it: the containers' sum or the
// largest init container, whichever is more; nullopt unless all declare one.
std::optional<int64_t> PodMemoryLimit(const k8s::Pod& pod) {
  int64_t sum = 0, init_max = 0;
  for (const auto& c : pod.spec.containers) {
    auto it = c.resources.limits.find("memory");
    if (it == c.resources.limits.end()) return std::nullopt;
    sum += it->second.Value();
  }
  for (const auto& c : pod.spec.initContainers) {
    auto it = c.resources.limits.find("memory");
    if (it == c.resources.limits.end()) return std::nullopt;
    if (c.restartPolicy && *c.restartPolicy == "Always") {
      sum += it->second.Value();  // a sidecar runs beside the containers
    } else {
      init_max = std::max(init_max, it->second.Value());
    }
  }
  return std::max(sum, init_max);
}

}  // namespace

int64_t MemoryEmptyDirSize(const k8s::EmptyDirVolumeSource& source, const k8s::Pod& pod, int64_t node_memory_bytes) {
  int64_t size = node_memory_bytes;
  auto smaller = [&](int64_t v) {
    if (v > 0 && (size <= 0 || v <= size)) size = v;
  };
  if (auto limit = PodMemoryLimit(pod)) smaller(*limit);
  if (source.sizeLimit) smaller(source.sizeLimit->Value());
  return size;
}

absl::Status SetUpEmptyDir(const std::string& dir, const k8s::EmptyDirVolumeSource& source,
                           std::optional<int64_t> tmpfs_size_bytes) {
  RETURN_IF_ERROR(ValidateEmptyDir(source, "emptyDir"));
  RETURN_IF_ERROR(MkdirAll(dir, 0777));
  if (source.medium != "Memory") {
    if (chmod(dir.c_str(), 0777) != 0) return ErrnoError(absl::StrCat("chmod ", dir));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto mounted, MountAt(dir));
  if (mounted && mounted->fs_type == "tmpfs") return absl::OkStatus();
  std::string options;
  if (tmpfs_size_bytes && *tmpfs_size_bytes > 0) {
    options = absl::StrCat("size=", *tmpfs_size_bytes);
  } else if (source.sizeLimit && !source.sizeLimit->IsZero()) {
    options = absl::StrCat("size=", source.sizeLimit->Value());
  }
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, options.empty() ? nullptr : options.c_str()) != 0) {
    return ErrnoError(absl::StrCat("mount tmpfs (", options, ") on ", dir));
  }
  return absl::OkStatus();  // a tmpfs root is 1777, as the kubelet leaves it
}

}  // namespace berth::agent::volume
