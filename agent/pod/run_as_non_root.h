// The kubelet's runAsNonRoot check (verifyRunAsNonRoot): with runAsNonRoot
// set, the user the container will run as (runAsUser, else the image's user
// from ImageStatus) must be a non-zero numeric uid. A failure is the
// container's CreateContainerConfigError with the kubelet's message.
#pragma once

#include "absl/status/status.h"
#include "agent/runtime/runtime_service.h"
#include "api/k8s/pod.h"

namespace berth::agent {

// `image` is ImageStatus's image for the container's image (uid or username).
absl::Status VerifyRunAsNonRoot(const k8s::Pod& pod, const k8s::Container& container, const cri::Image& image);

}  // namespace berth::agent
