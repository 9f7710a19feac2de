// RuntimeService and ImageService over gRPC to a CRI endpoint
// ("unix:///run/containerd/containerd.sock"), so the agent can drive any CRI
// runtime. Each call has a deadline (PullImage a longer one); gRPC errors
// become absl::Status with the same code and "<Method>: " before the message.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "agent/runtime/runtime_service.h"
#include "api/cri/api.grpc.pb.h"

namespace berth::agent {

class RemoteRuntime final : public RuntimeService, public ImageService {
 public:
  struct Options {
    absl::Duration call_timeout = absl::Minutes(2);  // the kubelet's --runtime-request-timeout
    absl::Duration pull_timeout = absl::Minutes(10);
  };
  // Connects lazily; the first call tells whether the endpoint answers.
  static std::unique_ptr<RemoteRuntime> Connect(const std::string& endpoint, Options options);
  static std::unique_ptr<RemoteRuntime> Connect(const std::string& endpoint) {
    return Connect(endpoint, Options());
  }

  BERTH_AGENT_RUNTIME_CALLS(BERTH_AGENT_DECLARE_CALL)
  BERTH_AGENT_IMAGE_CALLS(BERTH_AGENT_DECLARE_CALL)
  absl::StatusOr<std::unique_ptr<ContainerEventStream>> GetContainerEvents() override;

 private:
  RemoteRuntime(std::shared_ptr<grpc::Channel> channel, Options options);
  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<cri::RuntimeService::Stub> runtime_;
  std::unique_ptr<cri::ImageService::Stub> images_;
  Options options_;
};

}  // namespace berth::agent
