#include "agent/prober/probe_result.h"

namespace berth::agent::prober {

absl::string_view ProbeResultName(ProbeResult r) {
  switch (r) {
    case ProbeResult::kSuccess:
      return "success";
    case ProbeResult::kWarning:
      return "warning";
    case ProbeResult::kFailure:
      return "failure";
    case ProbeResult::kUnknown:
      break;
  }
  return "unknown";
}

absl::string_view ProbeTypeName(ProbeType t) {
  switch (t) {
    case ProbeType::kLiveness:
      return "Liveness";
    case ProbeType::kReadiness:
      return "Readiness";
    case ProbeType::kStartup:
      break;
  }
  return "Startup";
}

}  // namespace berth::agent::prober
