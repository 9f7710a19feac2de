// A fake NVIDIA device tree under a temporary root, for tests on machines
// without a GPU: /proc/driver/nvidia/gpus/<bus>/information, device nodes
// made with mknod (char 195:<minor>, 195:255 for nvidiactl, and a uvm pair),
// sysfs PCI links, driver libraries and binaries. Needs root for mknod.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::gpu {

class FakeGpuTree {
 public:
  // A fresh dir under $TMPDIR (or /tmp); removed by the destructor.
  static absl::StatusOr<FakeGpuTree> Create();
  // A fresh tree with GPU-aaaa (0000:01:00.0, minor 0), GPU-bbbb
  // (0000:02:00.0, minor 1) and the control nodes.
  static absl::StatusOr<std::unique_ptr<FakeGpuTree>> CreateWithTwoGpus();
  FakeGpuTree(FakeGpuTree&& other) noexcept : root_(std::move(other.root_)) { other.root_.clear(); }
  FakeGpuTree& operator=(FakeGpuTree&&) = delete;
  ~FakeGpuTree();

  const std::string& root() const { return root_; }

  // The GPU's information file and /dev/nvidia<minor>. `pci_path`, when
  // given, is its sysfs path below /sys/devices ("pci0000:00/0000:00:01.0/<bus>").
  absl::Status AddGpu(const std::string& bus_id, const std::string& uuid, int minor,
                      const std::string& model = "Tesla T4", const std::string& pci_path = "");
  // /dev/nvidiactl (195:255), /dev/nvidia-uvm and /dev/nvidia-uvm-tools (510:0, 510:1).
  absl::Status AddControlNodes();
  // An empty file at `path` inside the root, with `mode`.
  absl::Status AddFile(const std::string& path, const std::string& content = "", unsigned mode = 0644);
  absl::Status AddSymlink(const std::string& path, const std::string& target);

 private:
  explicit FakeGpuTree(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace berth::gpu
