#include "device-plugin/fake_gpu_tree.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::gpu {
namespace {

std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

absl::Status MakeCharNode(const std::string& path, unsigned major_num, unsigned minor_num) {
  RETURN_IF_ERROR(MkdirAll(DirOf(path)));
  unlink(path.c_str());
  if (mknod(path.c_str(), S_IFCHR | 0666, makedev(major_num, minor_num)) != 0) {
    return ErrnoError(absl::StrCat("mknod ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FakeGpuTree> FakeGpuTree::Create() {
  const char* tmp = getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/berth-gpu-tree.XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) return ErrnoError("mkdtemp");
  return FakeGpuTree(templ);
}

absl::StatusOr<std::unique_ptr<FakeGpuTree>> FakeGpuTree::CreateWithTwoGpus() {
  ASSIGN_OR_RETURN(FakeGpuTree tree, Create());
  auto out = std::make_unique<FakeGpuTree>(std::move(tree));
  RETURN_IF_ERROR(out->AddGpu("0000:01:00.0", "GPU-aaaa", 0));
  RETURN_IF_ERROR(out->AddGpu("0000:02:00.0", "GPU-bbbb", 1));
  RETURN_IF_ERROR(out->AddControlNodes());
  return out;
}

FakeGpuTree::~FakeGpuTree() {
  if (!root_.empty()) (void)RemoveAll(root_);
}

absl::Status FakeGpuTree::AddGpu(const std::string& bus_id, const std::string& uuid, int minor,
                                 const std::string& model, const std::string& pci_path) {
  std::string info = absl::StrCat("Model: \t\t ", model, "\nIRQ:   \t\t ", 30 + minor, "\nGPU UUID: \t ", uuid,
                                  "\nVideo BIOS: \t 90.04.38.00.03\nBus Type: \t PCIe\nDMA Size: \t 47 bits\n"
                                  "DMA Mask: \t 0x7fffffffffff\nBus Location: \t ",
                                  bus_id, "\nDevice Minor: \t ", minor, "\nGPU Excluded:\t No\n");
  RETURN_IF_ERROR(AddFile(absl::StrCat("/proc/driver/nvidia/gpus/", bus_id, "/information"), info));
  RETURN_IF_ERROR(MakeCharNode(absl::StrCat(root_, "/dev/nvidia", minor), 195, static_cast<unsigned>(minor)));
  if (!pci_path.empty()) {
    RETURN_IF_ERROR(MkdirAll(absl::StrCat(root_, "/sys/devices/", pci_path)));
    RETURN_IF_ERROR(AddFile(absl::StrCat("/sys/devices/", pci_path, "/numa_node"), "0\n"));
    RETURN_IF_ERROR(AddSymlink(absl::StrCat("/sys/bus/pci/devices/", bus_id), absl::StrCat("../../../devices/", pci_path)));
  }
  return absl::OkStatus();
}

absl::Status FakeGpuTree::AddControlNodes() {
  RETURN_IF_ERROR(MakeCharNode(root_ + "/dev/nvidiactl", 195, 255));
  RETURN_IF_ERROR(MakeCharNode(root_ + "/dev/nvidia-uvm", 510, 0));
  return MakeCharNode(root_ + "/dev/nvidia-uvm-tools", 510, 1);
}

absl::Status FakeGpuTree::AddFile(const std::string& path, const std::string& content, unsigned mode) {
  std::string full = JoinUnderRoot(root_, path);
  RETURN_IF_ERROR(MkdirAll(DirOf(full)));
  RETURN_IF_ERROR(AtomicWriteFile(full, content, mode, /*durable=*/false));
  if (chmod(full.c_str(), mode) != 0) return ErrnoError(absl::StrCat("chmod ", full));
  return absl::OkStatus();
}

absl::Status FakeGpuTree::AddSymlink(const std::string& path, const std::string& target) {
  std::string full = JoinUnderRoot(root_, path);
  RETURN_IF_ERROR(MkdirAll(DirOf(full)));
  if (symlink(target.c_str(), full.c_str()) != 0) return ErrnoError(absl::StrCat("symlink ", full));
  return absl::OkStatus();
}

}  // namespace berth::gpu
