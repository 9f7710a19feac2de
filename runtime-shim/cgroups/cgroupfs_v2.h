// The cgroupfs driver on cgroup v2: one directory in the unified hierarchy,
// controllers enabled down the path, limits written to the v2 knobs.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "runtime-shim/cgroups/cgroup_layout.h"
#include "runtime-shim/cgroups/cgroup_manager.h"

namespace berth {

// The kubelet's mapping of cgroup v1 cpu.shares [2, 262144] onto cpu.weight [1, 10000].
uint64_t CpuSharesToWeight(uint64_t shares);

class CgroupfsV2Manager : public CgroupManager {
 public:
  explicit CgroupfsV2Manager(CgroupLayout layout);

  std::string Driver() const override { return "cgroupfs"; }
  int Version() const override { return 2; }
  absl::Status Create(const std::string& name, const CgroupResources& resources) override;
  absl::StatusOr<std::vector<std::string>> ProcsDirs(const std::string& name) override;
  std::string MemoryDir(const std::string& name) override;
  absl::StatusOr<uint64_t> OomKillCount(const std::string& name) override;
  absl::Status Update(const std::string& name, const CgroupResources& resources) override;
  absl::StatusOr<CgroupStats> Stats(const std::string& name) override;
  absl::StatusOr<std::vector<pid_t>> Pids(const std::string& name) override;
  absl::Status Destroy(const std::string& name) override;

 private:
  // The controllers `resources` needs enabled; InvalidArgument when one is missing.
  absl::StatusOr<std::string> NeededControllers(const CgroupResources& resources) const;
  // Writes `controllers` ("+cpu +memory") into the subtree_control of every
  // ancestor of `name`, once per process and ancestor.
  absl::Status EnableControllers(const std::string& name, const std::string& controllers);
  absl::Status Apply(const std::string& dir, const CgroupResources& resources);
  absl::Status KillAll(const std::string& dir);

  CgroupLayout layout_;
  std::string root_;
  std::mutex mu_;
  std::set<std::string> enabled_;  // "<dir>\n<controllers>" already written
};

}  // namespace berth
