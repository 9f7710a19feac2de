// The cgroupfs driver on cgroup v1: one directory per mounted hierarchy (and in
// the cgroup2 mount on a hybrid host), limits written to the v1 knobs.
#pragma once

#include <string>
#include <vector>

#include "runtime-shim/cgroups/cgroup_layout.h"
#include "runtime-shim/cgroups/cgroup_manager.h"

namespace berth {

class CgroupfsV1Manager : public CgroupManager {
 public:
  explicit CgroupfsV1Manager(CgroupLayout layout);

  std::string Driver() const override { return "cgroupfs"; }
  int Version() const override { return 1; }
  absl::Status Create(const std::string& name, const CgroupResources& resources) override;
  absl::StatusOr<std::vector<std::string>> ProcsDirs(const std::string& name) override;
  std::string MemoryDir(const std::string& name) override;
  absl::StatusOr<uint64_t> OomKillCount(const std::string& name) override;
  absl::Status Update(const std::string& name, const CgroupResources& resources) override;
  absl::StatusOr<CgroupStats> Stats(const std::string& name) override;
  absl::StatusOr<std::vector<pid_t>> Pids(const std::string& name) override;
  absl::Status Destroy(const std::string& name) override;

 private:
  // Bad input is refused before anything is written.
  absl::Status Validate(const CgroupResources& resources) const;
  absl::Status Apply(const std::string& name, const CgroupResources& resources);
  absl::Status ApplyMemory(const std::string& dir, const CgroupResources& resources);
  // mkdir of mount+name and its missing parents; each made dir lands in `created`.
  absl::Status MakeDir(const std::string& mount, const std::string& name,
                       std::vector<std::string>* created);
  // Hugepage limits go to a v1 hugetlb hierarchy, else to the cgroup2 mount.
  bool HugetlbInUnified() const;
  absl::Status EnableUnifiedHugetlb(const std::string& name);
  absl::Status KillAll(const std::string& name);

  CgroupLayout layout_;
  std::vector<std::string> mounts_;  // v1 mount dirs, then the cgroup2 mount
  std::string cpuset_mount_;
  bool has_memsw_ = false;
};

}  // namespace berth
