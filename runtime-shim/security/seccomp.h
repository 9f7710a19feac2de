// Seccomp profiles in the OCI runtime-spec JSON shape ("defaultAction",
// "defaultErrnoRet", "architectures", "syscalls": [{"names", "action",
// "errnoRet", "args": [{"index", "value", "valueTwo", "op"}]}]), compiled and
// loaded with libseccomp.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

// berth's RuntimeDefault profile as OCI JSON: an allowlist of the syscalls
// ordinary containers use, everything else failing with EPERM; the usual
// dangerous calls (kexec_load, init_module, mount without CAP_SYS_ADMIN,
// reboot, ...) stay blocked, as in the runtimes' default profiles.
std::string RuntimeDefaultSeccompProfile();

// Checks a profile without loading it: JSON syntax, known actions, syscall
// names this libseccomp knows (unknown names are skipped, as runc does),
// operators and arg indexes. Errors are InvalidArgument naming the field,
// e.g. `seccomp profile: syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
absl::Status ValidateSeccompProfile(const std::string& json);

// Compiles and loads the profile into the calling thread (and so what it
// execs and forks). It does not set no_new_privs: the caller decides
// (allowPrivilegeEscalation). With no_new_privs set, call it last before
// exec; without it the load needs CAP_SYS_ADMIN, so call it before dropping
// capabilities (SetUserAndCapabilities), as runc does. About 2 ms for
// RuntimeDefault on a busy 2-core VM.
absl::Status LoadSeccompProfile(const std::string& json);

}  // namespace berth
