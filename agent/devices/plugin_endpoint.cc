#include "agent/devices/plugin_endpoint.h"

#include <sys/stat.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "grpcpp/grpcpp.h"

namespace berth::agent::devices {
namespace {

absl::Status FromGrpc(const grpc::Status& s, const std::string& context) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), absl::StrCat(context, ": ", s.error_message()));
}

}  // namespace

PluginEndpoint::PluginEndpoint(std::string resource, std::string socket_path, absl::Duration rpc_timeout,
                               Callbacks callbacks)
    : resource_(std::move(resource)),
      socket_path_(std::move(socket_path)),
      rpc_timeout_(rpc_timeout),
      callbacks_(std::move(callbacks)) {
  struct stat st {};
  if (stat(socket_path_.c_str(), &st) == 0) socket_inode_ = st.st_ino;
  grpc::ChannelArguments args;
  // A refused first dial is retried soon; a plugin that restarts comes back
  // on a new socket and registers again, so the backoff stays short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  stub_ = v1beta1::DevicePlugin::NewStub(
      grpc::CreateCustomChannel("unix://" + socket_path_, grpc::InsecureChannelCredentials(), args));
}

PluginEndpoint::~PluginEndpoint() { Stop(); }

void PluginEndpoint::Start() { thread_ = std::thread([this] { Run(); }); }

void PluginEndpoint::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    if (stream_context_) stream_context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
  live_ = false;
}

absl::Status PluginEndpoint::Call(const char* method,
                                  const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(rpc_timeout_));
  return FromGrpc(rpc(&context), absl::StrCat(method, " of the ", resource_, " plugin at ", socket_path_));
}

void PluginEndpoint::Run() {
  v1beta1::DevicePluginOptions options;
  absl::Status st;
  {
    // Waits for the socket to accept (the plugin serves before it registers);
    // cancellable by Stop like the stream.
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(rpc_timeout_));
    context.set_wait_for_ready(true);
    {
      std::lock_guard<std::mutex> lock(context_mu_);
      if (stopping_) return;
      stream_context_ = &context;
    }
    st = FromGrpc(stub_->GetDevicePluginOptions(&context, v1beta1::Empty(), &options),
                  absl::StrCat("GetDevicePluginOptions of the ", resource_, " plugin at ", socket_path_));
    std::lock_guard<std::mutex> lock(context_mu_);
    stream_context_ = nullptr;
  }
  if (stopping_) return;
  if (!st.ok()) {
    live_ = false;
    if (callbacks_.ended) callbacks_.ended(this, st);
    return;
  }
  if (callbacks_.connected) callbacks_.connected(this, options);
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    if (stopping_) return;
    stream_context_ = &context;
  }
  auto reader = stub_->ListAndWatch(&context, v1beta1::Empty());
  v1beta1::ListAndWatchResponse response;
  while (reader->Read(&response)) {
    std::vector<v1beta1::Device> devices(response.devices().begin(), response.devices().end());
    if (callbacks_.devices) callbacks_.devices(this, devices);
  }
  grpc::Status finish = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    stream_context_ = nullptr;
  }
  live_ = false;
  if (stopping_) return;
  absl::Status end = finish.ok() ? absl::UnavailableError(absl::StrCat("ListAndWatch of the ", resource_,
                                                                      " plugin ended"))
                                 : FromGrpc(finish, absl::StrCat("ListAndWatch of the ", resource_, " plugin"));
  if (callbacks_.ended) callbacks_.ended(this, end);
}

absl::StatusOr<v1beta1::PreferredAllocationResponse> PluginEndpoint::GetPreferredAllocation(
    const v1beta1::PreferredAllocationRequest& request) {
  v1beta1::PreferredAllocationResponse response;
  absl::Status st = Call("GetPreferredAllocation", [&](grpc::ClientContext* c) {
    return stub_->GetPreferredAllocation(c, request, &response);
  });
  if (!st.ok()) return st;
  return response;
}

absl::StatusOr<v1beta1::AllocateResponse> PluginEndpoint::Allocate(const v1beta1::AllocateRequest& request) {
  v1beta1::AllocateResponse response;
  absl::Status st =
      Call("Allocate", [&](grpc::ClientContext* c) { return stub_->Allocate(c, request, &response); });
  if (!st.ok()) return st;
  return response;
}

absl::Status PluginEndpoint::PreStartContainer(const v1beta1::PreStartContainerRequest& request) {
  v1beta1::PreStartContainerResponse response;
  return Call("PreStartContainer",
              [&](grpc::ClientContext* c) { return stub_->PreStartContainer(c, request, &response); });
}

}  // namespace berth::agent::devices
