#include "device-plugin/registration_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "api/deviceplugin/api.grpc.pb.h"

namespace berth::gpu {

absl::Status RegisterWithKubelet(const std::string& plugin_dir, const std::string& socket_name,
                                 const std::string& resource_name, absl::Duration timeout) {
  std::string socket = plugin_dir + "/" + kKubeletSocket;
  // kubelet.sock appears at bind(), a moment before listen(): retry the
  // connection after 50ms, not gRPC's default 1s, so a restarted agent sees
  // its plugins back well within a second.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto channel = grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
  auto stub = v1beta1::Registration::NewStub(channel);
  v1beta1::RegisterRequest req;
  req.set_version(kDevicePluginVersion);
  req.set_endpoint(socket_name);
  req.set_resource_name(resource_name);
  req.mutable_options()->set_get_preferred_allocation_available(true);
  req.mutable_options()->set_pre_start_required(false);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  v1beta1::Empty resp;
  grpc::Status s = stub->Register(&ctx, req, &resp);
  if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    return absl::AlreadyExistsError(absl::StrCat("register ", resource_name, ": ", s.error_message()));
  }
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("register ", resource_name, " with ", socket, ": ", s.error_message()));
  }
  return absl::OkStatus();
}

}  // namespace berth::gpu
