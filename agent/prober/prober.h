// Runs one probe of a container's spec (exec, httpGet, tcpSocket or grpc)
// the way the kubelet's prober does: ports by number or by the container's
// port name, the pod IP as the default host, a retry when the probe itself
// could not run (kUnknown), and one timeout per attempt.
#pragma once

#include "absl/strings/string_view.h"
#include <string>


#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/prober/exec_in_container.h"
#include "agent/prober/exec_prober.h"
#include "agent/prober/grpc_prober.h"
#include "agent/prober/http_prober.h"
#include "agent/prober/probe_result.h"
#include "agent/prober/tcp_prober.h"
#include "api/k8s/container.h"

namespace berth::agent::prober {

struct ProbeTarget {
  const k8s::Container* container = nullptr;  // for named ports; must be set
  std::string container_id;
  std::string pod_ip;  // default host of httpGet and tcpSocket, the host of grpc
};

// A port by number (1..65535), by the name of one of the container's ports,
// or a number written as a string, as probe.ResolveContainerPort.
absl::StatusOr<int> ResolveContainerPort(const k8s::IntOrString& port, const k8s::Container& container);

// The GET the kubelet sends for an httpGet action (probe or lifecycle hook).
absl::StatusOr<HttpGetRequest> HttpGetRequestFor(const k8s::HTTPGetAction& action, const k8s::Container& container,
                                                 const std::string& pod_ip, absl::string_view user_agent);

class Prober {
 public:
  explicit Prober(ExecInContainer exec) : exec_(std::move(exec)) {}

  // The probe's verdict; kUnknown only when every attempt could not run.
  ProbeOutcome Run(const k8s::Probe& probe, const ProbeTarget& target, absl::Duration timeout) const;

 private:
  ProbeOutcome RunOnce(const k8s::Probe& probe, const ProbeTarget& target, absl::Duration timeout) const;

  ExecInContainer exec_;
};

}  // namespace berth::agent::prober
