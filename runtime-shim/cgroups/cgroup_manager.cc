#include "runtime-shim/cgroups/cgroup_manager.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "runtime-shim/cgroups/cgroup_layout.h"
#include "runtime-shim/cgroups/cgroupfs_v1.h"
#include "runtime-shim/cgroups/cgroupfs_v2.h"
#include "runtime-shim/cgroups/systemd_driver.h"

namespace berth {

CgroupManager::~CgroupManager() = default;

absl::StatusOr<std::unique_ptr<CgroupManager>> NewCgroupManager(const CgroupOptions& options) {
  std::string driver = options.driver;
  if (driver.empty() || driver == "auto") driver = DetectCgroupDriver(options.proc_root, options.systemd_run_dir);
  if (driver != "cgroupfs" && driver != "systemd") {
    return absl::InvalidArgumentError(
        absl::StrCat("cgroup driver '", options.driver, "': want auto, cgroupfs or systemd"));
  }
  ASSIGN_OR_RETURN(CgroupLayout layout,
                   DetectCgroupLayout(options.root, absl::StrCat(options.proc_root, "/self/mountinfo")));
  std::unique_ptr<CgroupManager> fs;
  if (layout.version == 2) {
    fs = std::make_unique<CgroupfsV2Manager>(layout);
  } else {
    fs = std::make_unique<CgroupfsV1Manager>(layout);
  }
  if (driver == "cgroupfs") return fs;
  return NewSystemdCgroupManager(layout, std::move(fs), options.dbus_address);
}

}  // namespace berth
