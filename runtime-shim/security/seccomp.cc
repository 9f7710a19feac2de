#include "runtime-shim/security/seccomp.h"

#include <seccomp.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/security/seccomp_profile.h"

namespace berth {
namespace {

struct FilterReleaser {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterReleaser>;

std::string SyscallName(int number) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
  if (name == nullptr) return absl::StrCat("syscall ", number);
  std::string result = name;
  free(name);
  return result;
}

// libseccomp reports failures as negative errno values.
absl::Status Check(int rc, absl::string_view what) {
  if (rc >= 0) return absl::OkStatus();
  return ErrnoError(-rc, what);
}

absl::Status SetAttr(scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t value,
                     absl::string_view name) {
  return Check(seccomp_attr_set(ctx, attr, value), absl::StrCat("seccomp attribute ", name));
}

absl::Status AddRule(scmp_filter_ctx ctx, const SeccompSyscallRule& rule, int syscall) {
  std::vector<scmp_arg_cmp> conditions;
  bool repeated_index = false;
  unsigned seen = 0;
  for (const SeccompArgRule& arg : rule.args) {
    repeated_index |= (seen >> arg.index) & 1;
    seen |= 1u << arg.index;
    conditions.push_back({arg.index, static_cast<scmp_compare>(arg.op), arg.value, arg.value_two});
  }
  auto add = [&](unsigned count, const scmp_arg_cmp* cmps) {
    return Check(seccomp_rule_add_array(ctx, rule.action, syscall, count, cmps),
                 absl::StrCat("seccomp rule for ", SyscallName(syscall)));
  };
  // The OCI runtimes' reading: conditions on distinct arguments all must
  // hold; several on the same argument are alternatives, one rule each.
  if (!repeated_index) return add(conditions.size(), conditions.data());
  for (const scmp_arg_cmp& condition : conditions) RETURN_IF_ERROR(add(1, &condition));
  return absl::OkStatus();
}

absl::StatusOr<Filter> Compile(const SeccompProfile& profile) {
  Filter filter(seccomp_init(profile.default_action));
  if (filter == nullptr) return absl::InternalError("seccomp_init failed");
  scmp_filter_ctx ctx = filter.get();
  // The caller decides about no_new_privs (allowPrivilegeEscalation), not libseccomp.
  RETURN_IF_ERROR(SetAttr(ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs"));
  // Report the kernel's errno from seccomp_load instead of ECANCELED.
  RETURN_IF_ERROR(SetAttr(ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "sysrawrc"));
  if (profile.flag_log) RETURN_IF_ERROR(SetAttr(ctx, SCMP_FLTATR_CTL_LOG, 1, "log"));
  if (profile.flag_spec_allow) RETURN_IF_ERROR(SetAttr(ctx, SCMP_FLTATR_CTL_SSB, 1, "ssb"));
  if (profile.flag_tsync) RETURN_IF_ERROR(SetAttr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, "tsync"));

  for (uint32_t arch : profile.architectures) {
    int rc = seccomp_arch_add(ctx, arch);
    if (rc != -EEXIST) RETURN_IF_ERROR(Check(rc, absl::StrCat("seccomp architecture ", arch)));
  }
  for (const SeccompSyscallRule& rule : profile.rules) {
    // libseccomp refuses rules that repeat the default action; they change nothing.
    if (rule.action == profile.default_action) continue;
    for (int syscall : rule.syscalls) RETURN_IF_ERROR(AddRule(ctx, rule, syscall));
  }
  return filter;
}

}  // namespace

absl::Status ValidateSeccompProfile(const std::string& json) {
  ASSIGN_OR_RETURN(SeccompProfile profile, ParseSeccompProfile(json));
  for (const SeccompSyscallRule& rule : profile.rules) {
    if (!rule.unknown_names.empty()) {
      BERTH_LOG(Debug) << "seccomp profile: skipping syscalls this libseccomp does not know"
                       << Kv("names", absl::StrJoin(rule.unknown_names, ","));
    }
  }
  return absl::OkStatus();
}

absl::Status LoadSeccompProfile(const std::string& json) {
  ASSIGN_OR_RETURN(SeccompProfile profile, ParseSeccompProfile(json));
  ASSIGN_OR_RETURN(Filter filter, Compile(profile));
  int rc = seccomp_load(filter.get());
  if (rc == -EACCES) {
    return ErrnoError(EACCES, "load seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)");
  }
  return Check(rc, "load seccomp filter");
}

}  // namespace berth
