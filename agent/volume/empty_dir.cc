#include "agent/volume/empty_dir.h"

#include <sys/mount.h>
#include <sys/stat.h>

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

absl::Status SetUpEmptyDir(const std::string& dir, const k8s::EmptyDirVolumeSource& source,
                           std::optional<int64_t> default_size_bytes) {
  RETURN_IF_ERROR(ValidateEmptyDir(source, "emptyDir"));
  RETURN_IF_ERROR(MkdirAll(dir, 0777));
  if (source.medium != "Memory") {
    if (chmod(dir.c_str(), 0777) != 0) return ErrnoError(absl::StrCat("chmod ", dir));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto mounted, MountAt(dir));
  if (mounted && mounted->fs_type == "tmpfs") return absl::OkStatus();
  std::string options;
  if (source.sizeLimit && !source.sizeLimit->IsZero()) {
    options = absl::StrCat("size=", source.sizeLimit->Value());
  } else if (default_size_bytes && *default_size_bytes > 0) {
    options = absl::StrCat("size=", *default_size_bytes);
  }
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, options.empty() ? nullptr : options.c_str()) != 0) {
    return ErrnoError(absl::StrCat("mount tmpfs (", options, ") on ", dir));
  }
  return absl::OkStatus();  // a tmpfs root is 1777, as the kubelet leaves it
}

}  // namespace berth::agent::volume
