#include "device-plugin/gpu.h"

#include <cctype>

namespace berth::gpu {

bool GpuTopology::HasNvlinks() const {
  for (const auto& row : nvlinks) {
    for (int n : row) {
      if (n > 0) return true;
    }
  }
  return false;
}

std::string NormalizePciBusId(const std::string& bus_id) {
  std::string out;
  out.reserve(bus_id.size());
  for (char c : bus_id) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  // NVML's busId has an 8-digit domain; sysfs and /proc use 4.
  size_t colon = out.find(':');
  if (colon != std::string::npos && colon > 4) {
    std::string domain = out.substr(0, colon);
    size_t nonzero = domain.find_first_not_of('0');
    std::string trimmed = nonzero == std::string::npos ? "" : domain.substr(nonzero);
    if (trimmed.size() <= 4) {
      out = std::string(4 - trimmed.size(), '0') + trimmed + out.substr(colon);
    }
  }
  return out;
}

}  // namespace berth::gpu
