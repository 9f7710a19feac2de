#include "e2e/cri_client.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace berth::e2e {

namespace v1 = runtime::v1;

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view method) {
  if (status.ok()) return absl::OkStatus();
  // gRPC and absl share the canonical code numbers.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(method, ": ", status.error_message()));
}

namespace {

// gRPC waits a second before retrying a connect that failed (its default
// initial reconnect back-off): a client started before the runtime's socket
// exists would see a restarted runtime up to a second late. Tests time that.
grpc::ChannelArguments QuickReconnect() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 10);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 10);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return args;
}

}  // namespace

CriClient::CriClient(const std::string& endpoint)
    : channel_(grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), QuickReconnect())),
      runtime_(v1::RuntimeService::NewStub(channel_)),
      images_(v1::ImageService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> CriClient::NewContext(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
  return context;
}

absl::Status CriClient::WaitForReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::DeadlineExceededError("never tried");
  while (absl::Now() < deadline) {
    // Block until the channel connects (or the remaining time passes) rather
    // than spinning on a socket that does not exist yet.
    channel_->WaitForConnected(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(std::max<int64_t>(
                                   1, absl::ToInt64Milliseconds(
                                          std::min(deadline - absl::Now(), absl::Seconds(1))))));
    auto context = NewContext(std::min(deadline - absl::Now(), absl::Seconds(5)));
    v1::VersionResponse response;
    last = FromGrpcStatus(runtime_->Version(context.get(), {}, &response), "Version");
    // Any error counts as "not yet": containerd, for one, answers Unknown
    // ("server is not initialized yet") while it recovers its state.
    if (last.ok()) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("runtime not ready within ", absl::FormatDuration(timeout), ": ",
                   last.message()));
}

absl::StatusOr<v1::VersionResponse> CriClient::Version() {
  auto context = NewContext(call_timeout_);
  v1::VersionResponse response;
  v1::VersionRequest request;
  request.set_version("v1");
  grpc::Status status = runtime_->Version(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "Version");
  return response;
}

absl::StatusOr<std::string> CriClient::RunPodSandbox(const v1::PodSandboxConfig& config,
                                                     const std::string& runtime_handler) {
  auto context = NewContext(call_timeout_);
  v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  request.set_runtime_handler(runtime_handler);
  v1::RunPodSandboxResponse response;
  grpc::Status status = runtime_->RunPodSandbox(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "RunPodSandbox");
  return response.pod_sandbox_id();
}

absl::Status CriClient::StopPodSandbox(const std::string& pod_id) {
  auto context = NewContext(call_timeout_);
  v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::StopPodSandboxResponse response;
  return FromGrpcStatus(runtime_->StopPodSandbox(context.get(), request, &response),
                        "StopPodSandbox");
}

absl::Status CriClient::RemovePodSandbox(const std::string& pod_id) {
  auto context = NewContext(call_timeout_);
  v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::RemovePodSandboxResponse response;
  return FromGrpcStatus(runtime_->RemovePodSandbox(context.get(), request, &response),
                        "RemovePodSandbox");
}

absl::StatusOr<v1::PodSandboxStatusResponse> CriClient::PodSandboxStatus(
    const std::string& pod_id, bool verbose) {
  auto context = NewContext(call_timeout_);
  v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(pod_id);
  request.set_verbose(verbose);
  v1::PodSandboxStatusResponse response;
  grpc::Status status = runtime_->PodSandboxStatus(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "PodSandboxStatus");
  return response;
}

absl::StatusOr<std::vector<v1::PodSandbox>> CriClient::ListPodSandbox(
    const v1::PodSandboxFilter& filter) {
  auto context = NewContext(call_timeout_);
  v1::ListPodSandboxRequest request;
  *request.mutable_filter() = filter;
  v1::ListPodSandboxResponse response;
  grpc::Status status = runtime_->ListPodSandbox(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ListPodSandbox");
  return std::vector<v1::PodSandbox>(response.items().begin(), response.items().end());
}

absl::StatusOr<std::string> CriClient::CreateContainer(const std::string& pod_id,
                                                       const v1::ContainerConfig& config,
                                                       const v1::PodSandboxConfig& pod_config) {
  auto context = NewContext(call_timeout_);
  v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_id);
  *request.mutable_config() = config;
  *request.mutable_sandbox_config() = pod_config;
  v1::CreateContainerResponse response;
  grpc::Status status = runtime_->CreateContainer(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "CreateContainer");
  return response.container_id();
}

absl::Status CriClient::StartContainer(const std::string& container_id) {
  auto context = NewContext(call_timeout_);
  v1::StartContainerRequest request;
  request.set_container_id(container_id);
  v1::StartContainerResponse response;
  return FromGrpcStatus(runtime_->StartContainer(context.get(), request, &response),
                        "StartContainer");
}

absl::Status CriClient::StopContainer(const std::string& container_id, int64_t timeout_s) {
  // The stop may legitimately take the whole grace period.
  auto context = NewContext(call_timeout_ + absl::Seconds(timeout_s));
  v1::StopContainerRequest request;
  request.set_container_id(container_id);
  request.set_timeout(timeout_s);
  v1::StopContainerResponse response;
  return FromGrpcStatus(runtime_->StopContainer(context.get(), request, &response),
                        "StopContainer");
}

absl::Status CriClient::RemoveContainer(const std::string& container_id) {
  auto context = NewContext(call_timeout_);
  v1::RemoveContainerRequest request;
  request.set_container_id(container_id);
  v1::RemoveContainerResponse response;
  return FromGrpcStatus(runtime_->RemoveContainer(context.get(), request, &response),
                        "RemoveContainer");
}

absl::StatusOr<std::vector<v1::Container>> CriClient::ListContainers(
    const v1::ContainerFilter& filter) {
  auto context = NewContext(call_timeout_);
  v1::ListContainersRequest request;
  *request.mutable_filter() = filter;
  v1::ListContainersResponse response;
  grpc::Status status = runtime_->ListContainers(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ListContainers");
  return std::vector<v1::Container>(response.containers().begin(), response.containers().end());
}

absl::StatusOr<v1::ContainerStatusResponse> CriClient::ContainerStatus(
    const std::string& container_id, bool verbose) {
  auto context = NewContext(call_timeout_);
  v1::ContainerStatusRequest request;
  request.set_container_id(container_id);
  request.set_verbose(verbose);
  v1::ContainerStatusResponse response;
  grpc::Status status = runtime_->ContainerStatus(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ContainerStatus");
  return response;
}

absl::StatusOr<v1::ExecSyncResponse> CriClient::ExecSync(const std::string& container_id,
                                                         const std::vector<std::string>& cmd,
                                                         int64_t timeout_s) {
  auto context = NewContext(call_timeout_ + absl::Seconds(timeout_s));
  v1::ExecSyncRequest request;
  request.set_container_id(container_id);
  for (const std::string& arg : cmd) request.add_cmd(arg);
  request.set_timeout(timeout_s);
  v1::ExecSyncResponse response;
  grpc::Status status = runtime_->ExecSync(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ExecSync");
  return response;
}

absl::StatusOr<v1::ContainerStats> CriClient::ContainerStats(const std::string& container_id) {
  auto context = NewContext(call_timeout_);
  v1::ContainerStatsRequest request;
  request.set_container_id(container_id);
  v1::ContainerStatsResponse response;
  grpc::Status status = runtime_->ContainerStats(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ContainerStats");
  return response.stats();
}

absl::StatusOr<std::vector<v1::ContainerStats>> CriClient::ListContainerStats(
    const v1::ContainerStatsFilter& filter) {
  auto context = NewContext(call_timeout_);
  v1::ListContainerStatsRequest request;
  *request.mutable_filter() = filter;
  v1::ListContainerStatsResponse response;
  grpc::Status status = runtime_->ListContainerStats(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ListContainerStats");
  return std::vector<v1::ContainerStats>(response.stats().begin(), response.stats().end());
}

absl::StatusOr<v1::PodSandboxStats> CriClient::PodSandboxStats(const std::string& pod_id) {
  auto context = NewContext(call_timeout_);
  v1::PodSandboxStatsRequest request;
  request.set_pod_sandbox_id(pod_id);
  v1::PodSandboxStatsResponse response;
  grpc::Status status = runtime_->PodSandboxStats(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "PodSandboxStats");
  return response.stats();
}

absl::StatusOr<v1::ImageStatusResponse> CriClient::ImageStatus(const std::string& image) {
  auto context = NewContext(call_timeout_);
  v1::ImageStatusRequest request;
  request.mutable_image()->set_image(image);
  v1::ImageStatusResponse response;
  grpc::Status status = images_->ImageStatus(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, "ImageStatus");
  return response;
}

absl::StatusOr<v1::ContainerStatus> CriClient::WaitForContainerState(
    const std::string& container_id, v1::ContainerState state, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // Subscribe before the first look, so an event between the two is not lost.
  std::unique_ptr<grpc::ClientContext> events_context;
  std::unique_ptr<grpc::ClientReader<v1::ContainerEventResponse>> events;
  if (events_supported_) {
    events_context = NewContext(timeout);
    events = runtime_->GetContainerEvents(events_context.get(), v1::GetEventsRequest());
  }
  v1::ContainerState last_state = v1::CONTAINER_UNKNOWN;
  while (true) {
    absl::StatusOr<v1::ContainerStatusResponse> status = ContainerStatus(container_id);
    if (!status.ok()) return status.status();
    last_state = status->status().state();
    if (last_state == state) return status->status();
    if (absl::Now() >= deadline) break;
    if (events != nullptr) {
      v1::ContainerEventResponse event;
      bool got_ours = false;
      while (!got_ours && events->Read(&event)) {
        got_ours = event.container_id() == container_id;
      }
      if (!got_ours) {
        grpc::Status finish = events->Finish();
        if (finish.error_code() == grpc::StatusCode::UNIMPLEMENTED) events_supported_ = false;
        events.reset();
        if (finish.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          // One last look below, then give up.
          auto final_status = ContainerStatus(container_id);
          if (!final_status.ok()) return final_status.status();
          last_state = final_status->status().state();
          if (last_state == state) return final_status->status();
          break;
        }
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "container ", container_id, " not ", v1::ContainerState_Name(state), " within ",
      absl::FormatDuration(timeout), "; last state ", v1::ContainerState_Name(last_state)));
}

v1::PodSandboxConfig MinimalPodSandboxConfig(const std::string& name, const std::string& uid,
                                             const std::string& ns) {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_(ns);
  config.mutable_metadata()->set_uid(uid);
  config.mutable_metadata()->set_attempt(0);
  config.set_hostname(name);
  return config;
}

v1::ContainerConfig MinimalContainerConfig(const std::string& name, const std::string& image,
                                           const std::vector<std::string>& command) {
  v1::ContainerConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_attempt(0);
  config.mutable_image()->set_image(image);
  for (const std::string& arg : command) config.add_command(arg);
  return config;
}

}  // namespace berth::e2e
