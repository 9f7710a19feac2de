#include "runtime-shim/shim/process_setup.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/security/capabilities.h"
#include "runtime-shim/security/seccomp.h"

namespace berth::shim {

absl::Status JoinCgroups(const ContainerSpec& spec) {
  for (const std::string& dir : spec.cgroup_dirs) {
    RETURN_IF_ERROR(WriteKnob(absl::StrCat(dir, "/cgroup.procs"), "0"));
  }
  return absl::OkStatus();
}

absl::Status ApplyProcessSecurity(const ContainerSpec& spec, const std::string& seccomp_profile) {
  std::vector<gid_t> groups(spec.additional_gids.begin(), spec.additional_gids.end());
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while
  // we still have it (as runc does); the profile must then allow the calls
  // that switch the user and capabilities.
  bool seccomp_first = !seccomp_profile.empty() && !spec.no_new_privs;
  if (seccomp_first) {
    RETURN_IF_ERROR(Annotate(LoadSeccompProfile(seccomp_profile), "load seccomp.json"));
  }
  RETURN_IF_ERROR(Annotate(SetUserAndCapabilities(spec.uid, spec.gid, groups, spec.capabilities),
                           absl::StrCat("set user ", spec.uid, ":", spec.gid, " and capabilities")));
  if (spec.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError("prctl(PR_SET_NO_NEW_PRIVS)");
  }
  if (!seccomp_profile.empty() && !seccomp_first) {
    RETURN_IF_ERROR(Annotate(LoadSeccompProfile(seccomp_profile), "load seccomp.json"));
  }
  return absl::OkStatus();
}

void ResetSignalsForExec() {
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
}

absl::Status ExecContainerProcess(const std::string& path, const ContainerSpec& spec,
                                  const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  return ErrnoError(absl::StrCat("exec ", path));
}

}  // namespace berth::shim
