#include "agent/pod/run_as_non_root.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::agent {

absl::Status VerifyRunAsNonRoot(const k8s::Pod& pod, const k8s::Container& container, const cri::Image& image) {
  const auto& psc = pod.spec.securityContext;
  const auto& csc = container.securityContext;
  bool non_root = psc && psc->runAsNonRoot.value_or(false);
  if (csc && csc->runAsNonRoot.has_value()) non_root = *csc->runAsNonRoot;
  if (!non_root) return absl::OkStatus();
  std::string who = absl::StrCat("(pod: \"", pod.metadata.name, "_", pod.metadata.namespace_, "(", pod.metadata.uid,
                                 ")\", container: ", container.name, ")");
  std::optional<int64_t> uid;
  if (psc && psc->runAsUser) uid = *psc->runAsUser;
  if (csc && csc->runAsUser) uid = *csc->runAsUser;
  if (uid) {
    if (*uid == 0) return absl::FailedPreconditionError(absl::StrCat("container's runAsUser breaks non-root policy ", who));
    return absl::OkStatus();
  }
  if (image.has_uid()) {
    if (image.uid().value() == 0) {
      return absl::FailedPreconditionError(absl::StrCat("container has runAsNonRoot and image will run as root ", who));
    }
    return absl::OkStatus();
  }
  if (!image.username().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("container has runAsNonRoot and image has non-numeric user (",
                                                      image.username(), "), cannot verify user is non-root ", who));
  }
  // No user at all: the image runs as root.
  return absl::FailedPreconditionError(absl::StrCat("container has runAsNonRoot and image will run as root ", who));
}

}  // namespace berth::agent
