#include "agent/prober/prober.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace berth::agent::prober {
namespace {

constexpr int kMaxProbeAttempts = 3;  // the kubelet's maxProbeRetries

}  // namespace

absl::StatusOr<int> ResolveContainerPort(const k8s::IntOrString& port, const k8s::Container& container) {
  int value = -1;
  if (!port.is_string) {
    value = port.int_value;
  } else {
    bool found = false;
    for (const auto& p : container.ports) {
      if (p.name == port.str_value) {
        value = p.containerPort;
        found = true;
        break;
      }
    }
    if (!found) {
      const std::string& s = port.str_value;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
      if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("port \"", s, "\" not found in the ports of container \"", container.name, "\""));
      }
    }
  }
  if (value > 0 && value < 65536) return value;
  return absl::InvalidArgumentError(absl::StrCat("invalid port number: ", value));
}

absl::StatusOr<HttpGetRequest> HttpGetRequestFor(const k8s::HTTPGetAction& action, const k8s::Container& container,
                                                 const std::string& pod_ip, absl::string_view user_agent) {
  auto port = ResolveContainerPort(action.port, container);
  if (!port.ok()) return port.status();
  std::string host = action.host.empty() ? pod_ip : action.host;
  if (host.empty()) return absl::FailedPreconditionError("httpGet: no host given and the pod has no IP yet");
  std::string scheme = action.scheme.empty() ? "HTTP" : action.scheme;
  if (scheme != "HTTP" && scheme != "HTTPS" && scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("httpGet.scheme: unsupported value \"", scheme, "\""));
  }
  HttpGetRequest req;
  req.url = MakeProbeUrl(scheme, host, *port, action.path);
  std::vector<std::pair<std::string, std::string>> user;
  for (const auto& h : action.httpHeaders) user.emplace_back(h.name, h.value);
  req.headers = ProbeHeaders(user, user_agent);
  return req;
}

ProbeOutcome Prober::RunOnce(const k8s::Probe& probe, const ProbeTarget& target, absl::Duration timeout) const {
  if (target.container == nullptr) return {ProbeResult::kUnknown, "probe target has no container"};
  const k8s::Container& c = *target.container;
  if (probe.exec) return ExecProbe(exec_, target.container_id, probe.exec->command, timeout);
  if (probe.httpGet) {
    auto req = HttpGetRequestFor(*probe.httpGet, c, target.pod_ip, kProbeUserAgent);
    if (!req.ok()) return {ProbeResult::kUnknown, std::string(req.status().message())};
    return HttpProbe(*req, timeout);
  }
  if (probe.tcpSocket) {
    auto port = ResolveContainerPort(probe.tcpSocket->port, c);
    if (!port.ok()) return {ProbeResult::kUnknown, std::string(port.status().message())};
    std::string host = probe.tcpSocket->host.empty() ? target.pod_ip : probe.tcpSocket->host;
    if (host.empty()) return {ProbeResult::kUnknown, "tcpSocket: no host given and the pod has no IP yet"};
    return TcpProbe(host, *port, timeout);
  }
  if (probe.grpc) {
    if (target.pod_ip.empty()) return {ProbeResult::kUnknown, "grpc: the pod has no IP yet"};
    if (probe.grpc->port <= 0 || probe.grpc->port > 65535) {
      return {ProbeResult::kUnknown, absl::StrCat("invalid port number: ", probe.grpc->port)};
    }
    return GrpcProbe(target.pod_ip, probe.grpc->port, probe.grpc->service.value_or(""), timeout);
  }
  return {ProbeResult::kUnknown, "missing probe handler"};
}

ProbeOutcome Prober::Run(const k8s::Probe& probe, const ProbeTarget& target, absl::Duration timeout) const {
  ProbeOutcome out;
  for (int attempt = 0; attempt < kMaxProbeAttempts; ++attempt) {
    out = RunOnce(probe, target, timeout);
    if (out.result != ProbeResult::kUnknown) break;
  }
  return out;
}

}  // namespace berth::agent::prober
