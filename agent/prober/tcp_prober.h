// tcpSocket probe: success when a TCP connection to host:port opens within
// the timeout (it is closed at once), as the kubelet's tcp prober does.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "agent/prober/probe_result.h"

namespace berth::agent::prober {

ProbeOutcome TcpProbe(const std::string& host, int port, absl::Duration timeout);

}  // namespace berth::agent::prober
