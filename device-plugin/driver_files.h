// The driver's user-space files a GPU container needs, found on the host
// (under --root): libcuda.so*, libnvidia-*.so* and the other NVIDIA
// libraries from the library dirs (the defaults plus those in
// /etc/ld.so.conf and /etc/ld.so.conf.d/*.conf), the NVIDIA binaries
// (nvidia-smi, nvidia-debugdump, ...), the persistenced socket and the
// driver's GSP firmware.
#pragma once

#include <string>
#include <vector>

namespace berth::gpu {

struct HostFile {
  std::string host_path;       // under the root
  std::string container_path;  // the same path as seen from the root
};

struct DriverFiles {
  std::vector<HostFile> libraries;
  std::vector<HostFile> binaries;
  std::vector<HostFile> others;  // sockets, firmware dir
  size_t size() const { return libraries.size() + binaries.size() + others.size(); }
};

// The library dirs searched, as paths inside the root, in order.
std::vector<std::string> LibraryDirs(const std::string& root);

// Whether a file name is one of the NVIDIA user-space libraries.
bool IsDriverLibraryName(const std::string& name);

DriverFiles FindDriverFiles(const std::string& root, const std::string& driver_version);

}  // namespace berth::gpu
