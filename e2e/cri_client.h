// A thin synchronous CRI (runtime.v1) client over one gRPC channel to a unix
// socket, for end-to-end tests and berth-bench. Every call carries its own
// deadline; gRPC errors come back as absl::Status with the same code and the
// method name put before the runtime's message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/cri/api.grpc.pb.h"
#include "grpcpp/channel.h"

namespace berth::e2e {

// "<method>: <message>" with the gRPC code carried over.
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view method);

class CriClient {
 public:
  // `endpoint` is "unix:///path/to.sock" (or any gRPC target). Connecting is
  // lazy: use WaitForReady to know the runtime answers.
  explicit CriClient(const std::string& endpoint);

  // Calls Version until it succeeds or `timeout` passes.
  absl::Status WaitForReady(absl::Duration timeout);

  // The deadline of calls that take no timeout of their own (default 30 s).
  void set_call_timeout(absl::Duration timeout) { call_timeout_ = timeout; }

  runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  runtime::v1::ImageService::Stub& images() { return *images_; }

  absl::StatusOr<runtime::v1::VersionResponse> Version();

  absl::StatusOr<std::string> RunPodSandbox(const runtime::v1::PodSandboxConfig& config,
                                            const std::string& runtime_handler = "");
  absl::Status StopPodSandbox(const std::string& pod_id);
  absl::Status RemovePodSandbox(const std::string& pod_id);
  absl::StatusOr<runtime::v1::PodSandboxStatusResponse> PodSandboxStatus(
      const std::string& pod_id, bool verbose = false);
  absl::StatusOr<std::vector<runtime::v1::PodSandbox>> ListPodSandbox(
      const runtime::v1::PodSandboxFilter& filter = {});

  absl::StatusOr<std::string> CreateContainer(const std::string& pod_id,
                                              const runtime::v1::ContainerConfig& config,
                                              const runtime::v1::PodSandboxConfig& pod_config);
  absl::Status StartContainer(const std::string& container_id);
  absl::Status StopContainer(const std::string& container_id, int64_t timeout_s);
  absl::Status RemoveContainer(const std::string& container_id);
  absl::StatusOr<std::vector<runtime::v1::Container>> ListContainers(
      const runtime::v1::ContainerFilter& filter = {});
  absl::StatusOr<runtime::v1::ContainerStatusResponse> ContainerStatus(
      const std::string& container_id, bool verbose = false);

  absl::StatusOr<runtime::v1::ExecSyncResponse> ExecSync(const std::string& container_id,
                                                         const std::vector<std::string>& cmd,
                                                         int64_t timeout_s = 0);

  absl::StatusOr<runtime::v1::ContainerStats> ContainerStats(const std::string& container_id);
  absl::StatusOr<std::vector<runtime::v1::ContainerStats>> ListContainerStats(
      const runtime::v1::ContainerStatsFilter& filter = {});
  absl::StatusOr<runtime::v1::PodSandboxStats> PodSandboxStats(const std::string& pod_id);

  absl::StatusOr<runtime::v1::ImageStatusResponse> ImageStatus(const std::string& image);

  // Waits until the container is in `state`, or `timeout` passes (then
  // DeadlineExceeded naming the last state seen). Listens on
  // GetContainerEvents where the runtime streams it and re-reads
  // ContainerStatus on each event for this container; polls ContainerStatus
  // every 50 ms where the runtime does not implement the stream.
  absl::StatusOr<runtime::v1::ContainerStatus> WaitForContainerState(
      const std::string& container_id, runtime::v1::ContainerState state, absl::Duration timeout);

  // Whether the last WaitForContainerState found GetContainerEvents implemented.
  bool events_supported() const { return events_supported_; }

 private:
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration timeout) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<runtime::v1::ImageService::Stub> images_;
  absl::Duration call_timeout_ = absl::Seconds(30);
  bool events_supported_ = true;
};

// A pod config with metadata (name, namespace, uid, attempt 0), a hostname
// and nothing else; callers add what a test needs.
runtime::v1::PodSandboxConfig MinimalPodSandboxConfig(const std::string& name,
                                                      const std::string& uid,
                                                      const std::string& ns = "default");

// A container config with metadata (name, attempt 0), the image and the
// command (as CRI `command`, replacing the image's entrypoint).
runtime::v1::ContainerConfig MinimalContainerConfig(const std::string& name,
                                                    const std::string& image,
                                                    const std::vector<std::string>& command);

}  // namespace berth::e2e
