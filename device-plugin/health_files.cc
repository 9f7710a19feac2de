#include "device-plugin/health_files.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fs.h"

namespace berth::gpu {

HealthVerdict ParseHealthFile(absl::string_view content, const XidPolicy& policy) {
  std::string text = absl::AsciiStrToLower(absl::StripAsciiWhitespace(content));
  if (text == "healthy") return {true, "health file says healthy"};
  if (absl::StartsWith(text, "xid")) {
    unsigned long long xid = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(text).substr(3)), &xid)) {
      if (policy.IsCritical(xid)) return {false, absl::StrCat("critical Xid ", xid, " (health file)")};
      return {true, absl::StrCat("Xid ", xid, " is not critical (health file)")};
    }
  }
  return {false, text.empty() ? std::string("health file") : absl::StrCat("health file: ", text)};
}

void ApplyHealthFiles(const std::string& dir, const XidPolicy& policy, DeviceState* state) {
  const auto& gpus = state->inventory().gpus;
  for (size_t i = 0; i < gpus.size(); ++i) {
    HealthVerdict verdict{true, "no health file"};
    for (const std::string& name : {gpus[i].uuid, std::to_string(gpus[i].index)}) {
      auto content = ReadFile(dir + "/" + name);
      if (content.ok()) {
        verdict = ParseHealthFile(*content, policy);
        break;
      }
    }
    state->SetHealth(i, HealthSource::kFile, verdict.healthy, verdict.reason);
  }
}

}  // namespace berth::gpu
