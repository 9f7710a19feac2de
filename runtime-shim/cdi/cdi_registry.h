// CdiRegistry: the CDI spec files of a list of directories (by default
// /etc/cdi then /var/run/cdi), and the container edits of fully qualified
// device names. A device defined in a later directory overrides the same
// device in an earlier one; within one directory the file that sorts last
// wins. Files that do not parse are skipped and remembered, so an unknown
// device's error can say why a spec it may be in was not read.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/cdi/cdi_spec.h"

namespace berth::cdi {

inline const std::vector<std::string>& DefaultSpecDirs() {
  static const std::vector<std::string> dirs = {"/etc/cdi", "/var/run/cdi"};
  return dirs;
}

class CdiRegistry {
 public:
  // Reads every *.json, *.yaml and *.yml file of `dirs` (a missing dir is empty).
  static CdiRegistry Load(const std::vector<std::string>& dirs);

  // The edits of the named devices, in order: each spec's own containerEdits
  // once, then each device's. An unknown or malformed name is NotFound /
  // InvalidArgument naming it (and the dirs searched).
  absl::StatusOr<ContainerEdits> Resolve(const std::vector<std::string>& qualified_names) const;

  // "file: why" for each spec file that was skipped.
  const std::vector<std::string>& errors() const { return errors_; }
  size_t device_count() const { return devices_.size(); }

 private:
  struct Entry {
    size_t spec;  // index into specs_
    size_t device;
  };
  std::vector<std::string> dirs_;
  std::vector<Spec> specs_;
  std::map<std::string, Entry> devices_;  // "vendor.com/class=name" -> where
  std::vector<std::string> errors_;
};

}  // namespace berth::cdi
