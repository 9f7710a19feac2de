// RuntimeService and ImageService over berth's own Runtime, in this process:
// each call goes straight to the Runtime method of the same name, and
// GetContainerEvents is a subscription to its event fan-out.
#pragma once

#include "agent/runtime/runtime_service.h"
#include "runtime-shim/cri/runtime.h"

namespace berth::agent {

class InProcessRuntime final : public RuntimeService, public ImageService {
 public:
  // `runtime` must outlive this object.
  explicit InProcessRuntime(Runtime* runtime) : runtime_(runtime) {}

  BERTH_AGENT_RUNTIME_CALLS(BERTH_AGENT_DECLARE_CALL)
  BERTH_AGENT_IMAGE_CALLS(BERTH_AGENT_DECLARE_CALL)
  absl::StatusOr<std::unique_ptr<ContainerEventStream>> GetContainerEvents() override;

 private:
  Runtime* runtime_;
};

}  // namespace berth::agent
