#include "device-plugin/device_ids.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::gpu {

std::string ReplicaId(absl::string_view uuid, int replica) { return absl::StrCat(uuid, "::", replica); }

ParsedDeviceId ParseDeviceId(absl::string_view id) {
  ParsedDeviceId out;
  size_t sep = id.rfind("::");
  int n = -1;
  if (sep != absl::string_view::npos && absl::SimpleAtoi(id.substr(sep + 2), &n) && n >= 0) {
    out.uuid = std::string(id.substr(0, sep));
    out.replica = n;
  } else {
    out.uuid = std::string(id);
  }
  return out;
}

}  // namespace berth::gpu
