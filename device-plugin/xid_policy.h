// Which NVML Xid error codes make a GPU unhealthy. As NVIDIA's plugin does
// by default: every critical Xid event except the application errors
// 13, 31, 43, 45, 68 and 109, which a faulting program causes on a healthy GPU.
#pragma once

#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace berth::gpu {

inline constexpr char kDefaultIgnoredXids[] = "13,31,43,45,68,109";

class XidPolicy {
 public:
  // `critical`: "all", "none", or a comma-separated list of Xid numbers;
  // `ignored`: a comma-separated list (may be empty) taken out of it.
  // `flag_critical`/`flag_ignored` name the flags in errors.
  static absl::StatusOr<XidPolicy> Parse(const std::string& critical, const std::string& ignored,
                                         const std::string& flag_critical = "--critical-xids",
                                         const std::string& flag_ignored = "--ignored-xids");
  // The default: all except the application errors.
  static XidPolicy Default();

  bool IsCritical(unsigned long long xid) const;
  std::string Describe() const;  // "all except 13,31,..." for the start log

 private:
  bool all_ = true;
  std::set<unsigned long long> critical_;
  std::set<unsigned long long> ignored_;
};

}  // namespace berth::gpu
