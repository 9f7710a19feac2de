// CgroupManager: creates, limits, measures and removes the cgroups that pods
// and containers run in, over cgroupfs (v1 or v2) or systemd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

struct CgroupResources {
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> cpu_quota;  // microseconds per period; -1: unlimited
  std::optional<uint64_t> cpu_period;  // microseconds
  std::string cpuset_cpus, cpuset_mems;
  std::optional<int64_t> memory_limit;  // bytes; 0 or -1: unlimited
  std::optional<int64_t> memory_swap_limit;  // memory + swap in bytes (v1 memsw); -1: unlimited
  std::optional<int64_t> pids_limit;  // 0 or -1: unlimited
  std::map<std::string, uint64_t> hugepage_limits;  // "2MB" -> bytes
  std::map<std::string, std::string> unified;  // v2 file name -> value, written as given
  // v1 devices: when non-empty, "a" goes to devices.deny and each rule
  // ("c 1:3 rwm") to devices.allow; when empty the parent's rules are inherited.
  std::vector<std::string> device_rules;
};

struct CgroupStats {
  uint64_t cpu_usage_ns = 0;
  uint64_t memory_usage = 0;
  uint64_t memory_working_set = 0;
  uint64_t memory_rss = 0;
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
  uint64_t pids_current = 0;
  int64_t timestamp_ns = 0;
};

struct CgroupOptions {
  std::string root = "/sys/fs/cgroup";
  std::string driver = "auto";  // auto | cgroupfs | systemd
  std::string proc_root = "/proc";
  std::string dbus_address;  // empty: the system bus
  // Where systemd marks itself as running ("auto" needs it to pick systemd).
  std::string systemd_run_dir = "/run/systemd/system";
};

class CgroupManager {
 public:
  virtual ~CgroupManager();

  virtual std::string Driver() const = 0;  // "cgroupfs" or "systemd"
  virtual int Version() const = 0;  // 1 or 2

  // `name` is a path relative to the hierarchy roots ("/kubepods/besteffort/pod<uid>/<id>")
  // for cgroupfs, or a slice for systemd ("kubepods-besteffort-pod<uid>.slice", or
  // "<parent>.slice:<prefix>:<id>" for a container; see README.md).
  // Idempotent; on failure leaves nothing it made.
  virtual absl::Status Create(const std::string& name, const CgroupResources& resources) = 0;
  // Absolute directories whose cgroup.procs a process writes itself into to join.
  virtual absl::StatusOr<std::vector<std::string>> ProcsDirs(const std::string& name) = 0;
  // The directory holding the memory controller's files (OOM counts).
  virtual std::string MemoryDir(const std::string& name) = 0;
  virtual absl::StatusOr<uint64_t> OomKillCount(const std::string& name) = 0;
  virtual absl::Status Update(const std::string& name, const CgroupResources& resources) = 0;
  virtual absl::StatusOr<CgroupStats> Stats(const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<pid_t>> Pids(const std::string& name) = 0;
  // Kills what is left, waits until it is empty and removes the cgroup and its
  // children in every hierarchy. A missing cgroup is OK.
  virtual absl::Status Destroy(const std::string& name) = 0;
};

absl::StatusOr<std::unique_ptr<CgroupManager>> NewCgroupManager(const CgroupOptions& options);

}  // namespace berth
