#include "agent/prober/grpc_prober.h"

#include <arpa/inet.h>

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "api/grpc_health/health.grpc.pb.h"

namespace berth::agent::prober {

namespace health = ::grpc::health::v1;

ProbeOutcome GrpcProbe(const std::string& host, int port, const std::string& service, absl::Duration timeout) {
  std::string addr = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port)
                                                           : absl::StrCat(host, ":", port);
  auto deadline = std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout);
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(std::string(kProbeUserAgent));
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  // A channel of its own, so that one probe's connection never serves another's.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // The pod IP normally; a name goes through gRPC's resolver.
  in6_addr scratch;
  std::string target = inet_pton(AF_INET, host.c_str(), &scratch) == 1   ? absl::StrCat("ipv4:", addr)
                       : inet_pton(AF_INET6, host.c_str(), &scratch) == 1 ? absl::StrCat("ipv6:", addr)
                                                                          : absl::StrCat("dns:///", addr);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  std::string timeout_text = absl::FormatDuration(timeout);
  if (!channel->WaitForConnected(deadline)) {
    return {ProbeResult::kFailure,
            absl::StrCat("timeout: failed to connect service \"", addr, "\" within ", timeout_text)};
  }
  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  health::HealthCheckRequest req;
  req.set_service(service);
  health::HealthCheckResponse resp;
  grpc::Status st = stub->Check(&ctx, req, &resp);
  if (!st.ok()) {
    switch (st.error_code()) {
      case grpc::StatusCode::UNIMPLEMENTED:
        return {ProbeResult::kFailure,
                absl::StrCat("error: this server does not implement the grpc health protocol "
                             "(grpc.health.v1.Health): ",
                             st.error_message())};
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return {ProbeResult::kFailure, absl::StrCat("timeout: health rpc did not complete within ", timeout_text)};
      default:
        return {ProbeResult::kFailure, absl::StrCat("error: health rpc probe failed: rpc error: code = ",
                                                    static_cast<int>(st.error_code()), " desc = ", st.error_message())};
    }
  }
  if (resp.status() != health::HealthCheckResponse::SERVING) {
    return {ProbeResult::kFailure,
            absl::StrCat("service unhealthy (responded with \"",
                         health::HealthCheckResponse::ServingStatus_Name(resp.status()), "\")")};
  }
  return {ProbeResult::kSuccess, "service healthy"};
}

}  // namespace berth::agent::prober
