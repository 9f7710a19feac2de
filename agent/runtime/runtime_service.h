// RuntimeService and ImageService: the agent's view of a container runtime,
// one method per CRI call, taking and returning the runtime.v1 messages.
// Implementations: in_process_runtime.h (berth's own Runtime, linked in) and
// remote_runtime.h (a gRPC client to any CRI endpoint, e.g. containerd).
#pragma once

#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/cri/api.pb.h"

namespace berth::agent {

namespace cri = ::runtime::v1;

// The CRI RuntimeService calls the agent uses, each `Name(NameRequest, NameResponse*)`.
#define BERTH_AGENT_RUNTIME_CALLS(X) \
  X(Version)                         \
  X(Status)                          \
  X(RunPodSandbox)                   \
  X(StopPodSandbox)                  \
  X(RemovePodSandbox)                \
  X(PodSandboxStatus)                \
  X(ListPodSandbox)                  \
  X(CreateContainer)                 \
  X(StartContainer)                  \
  X(StopContainer)                   \
  X(RemoveContainer)                 \
  X(ListContainers)                  \
  X(ContainerStatus)                 \
  X(ExecSync)

// The CRI ImageService calls.
#define BERTH_AGENT_IMAGE_CALLS(X) \
  X(ListImages)                    \
  X(ImageStatus)                   \
  X(PullImage)                     \
  X(RemoveImage)                   \
  X(ImageFsInfo)

#define BERTH_AGENT_DECLARE_PURE_CALL(Name) \
  virtual absl::Status Name(const cri::Name##Request& req, cri::Name##Response* resp) = 0;
#define BERTH_AGENT_DECLARE_CALL(Name) \
  absl::Status Name(const cri::Name##Request& req, cri::Name##Response* resp) override;

// One GetContainerEvents stream. Events arrive in the runtime's order.
class ContainerEventStream {
 public:
  virtual ~ContainerEventStream() = default;
  // The next event, or nullopt after `timeout` or once the stream has ended
  // (see ended()).
  virtual std::optional<cri::ContainerEventResponse> Next(absl::Duration timeout) = 0;
  // True once the runtime closed the stream (it will give no more events).
  virtual bool ended() const = 0;
};

class RuntimeService {
 public:
  virtual ~RuntimeService() = default;
  BERTH_AGENT_RUNTIME_CALLS(BERTH_AGENT_DECLARE_PURE_CALL)
  // GetContainerEvents; an error when the runtime does not stream events.
  virtual absl::StatusOr<std::unique_ptr<ContainerEventStream>> GetContainerEvents() = 0;
};

class ImageService {
 public:
  virtual ~ImageService() = default;
  BERTH_AGENT_IMAGE_CALLS(BERTH_AGENT_DECLARE_PURE_CALL)
};

}  // namespace berth::agent
