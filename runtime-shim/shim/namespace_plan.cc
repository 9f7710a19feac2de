#include "runtime-shim/shim/namespace_plan.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace berth::shim {

absl::StatusOr<NamespacePlan> EnterNamespaces(const ContainerSpec& spec) {
  struct Kind {
    const char* type;
    int flag;
  };
  constexpr Kind kKinds[] = {{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
                             {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}};
  NamespacePlan plan;
  plan.clone_flags = CLONE_NEWNS;
  for (const NamespaceSpec& ns : spec.namespaces) {
    if (ns.type == "mnt") continue;  // always new
    const Kind* kind = nullptr;
    for (const Kind& k : kKinds) {
      if (ns.type == k.type) kind = &k;
    }
    if (kind == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("namespaces: unsupported type \"", ns.type, "\""));
    }
    if (ns.path.empty()) {
      plan.clone_flags |= kind->flag;
      continue;
    }
    int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(absl::StrCat("open ", ns.type, " namespace ", ns.path));
    int rc = ::setns(fd, kind->flag);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError(err, absl::StrCat("join ", ns.type, " namespace ", ns.path));
  }
  plan.new_net = (plan.clone_flags & CLONE_NEWNET) != 0;
  plan.new_uts = (plan.clone_flags & CLONE_NEWUTS) != 0;
  plan.new_pid = (plan.clone_flags & CLONE_NEWPID) != 0;
  return plan;
}

}  // namespace berth::shim
