// The parsed, validated form of an OCI seccomp profile: what
// ValidateSeccompProfile checks and LoadSeccompProfile compiles. Internal to
// runtime-shim/security.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth {

// One "args" entry: compares syscall argument `index` with `op`.
struct SeccompArgRule {
  unsigned index = 0;         // 0..5
  int op = 0;                 // enum scmp_compare
  uint64_t value = 0;         // the mask for SCMP_CMP_MASKED_EQ
  uint64_t value_two = 0;     // the datum for SCMP_CMP_MASKED_EQ
};

// One "syscalls" entry with its names resolved for the native architecture.
struct SeccompSyscallRule {
  std::vector<int> syscalls;             // libseccomp numbers; unknown names left out
  std::vector<std::string> unknown_names;  // skipped, as runc skips them
  uint32_t action = 0;                   // libseccomp action, errno/trace data included
  std::vector<SeccompArgRule> args;
};

struct SeccompProfile {
  uint32_t default_action = 0;
  std::vector<uint32_t> architectures;  // libseccomp SCMP_ARCH_* tokens
  bool flag_log = false;                // SECCOMP_FILTER_FLAG_LOG
  bool flag_spec_allow = false;         // SECCOMP_FILTER_FLAG_SPEC_ALLOW
  bool flag_tsync = false;              // SECCOMP_FILTER_FLAG_TSYNC
  std::vector<SeccompSyscallRule> rules;
};

// Parses and validates the OCI JSON. Errors are InvalidArgument of the form
// `seccomp profile: syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
absl::StatusOr<SeccompProfile> ParseSeccompProfile(const std::string& json);

}  // namespace berth
