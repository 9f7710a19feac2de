// What one probe or hook run says, and which probe it was, as the kubelet's
// probe.Result and its liveness / readiness / startup managers name them.
#pragma once

#include "absl/strings/string_view.h"
#include <string>


namespace berth::agent::prober {

// kWarning is a success with something to say (an HTTP probe that stopped at a
// redirect to another host); kUnknown means the probe itself could not run.
enum class ProbeResult { kSuccess, kWarning, kFailure, kUnknown };

struct ProbeOutcome {
  ProbeResult result = ProbeResult::kUnknown;
  std::string output;  // body, command output or the reason, for events
};

enum class ProbeType { kLiveness, kReadiness, kStartup };

absl::string_view ProbeResultName(ProbeResult r);
// "Liveness", "Readiness", "Startup", as the kubelet's events spell them.
absl::string_view ProbeTypeName(ProbeType t);

// The kubelet's limit on the body or command output a probe keeps (10 KiB).
inline constexpr size_t kMaxProbeOutputBytes = 10 * 1024;

// The User-Agent the kubelet sends: "kube-probe/1.32" and "kube-lifecycle/1.32".
inline constexpr absl::string_view kProbeUserAgent = "kube-probe/1.32";
inline constexpr absl::string_view kLifecycleUserAgent = "kube-lifecycle/1.32";

}  // namespace berth::agent::prober
