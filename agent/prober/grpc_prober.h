// grpc probe: grpc.health.v1.Health/Check on host:port for `service` ("" for
// the whole server), insecure, with the kubelet's User-Agent; SERVING is a
// success, anything else (another status, an error, a timeout) a failure
// whose output says which, in the kubelet's words.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "agent/prober/probe_result.h"

namespace berth::agent::prober {

ProbeOutcome GrpcProbe(const std::string& host, int port, const std::string& service, absl::Duration timeout);

}  // namespace berth::agent::prober
