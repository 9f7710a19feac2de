// What the image store knows about an image, as the CRI ImageService reports it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::image {

struct Image {
  std::string id;                        // "sha256:<config hex>"
  std::vector<std::string> repo_tags;    // "docker.io/library/busybox:latest"
  std::vector<std::string> repo_digests; // "docker.io/library/busybox@sha256:<manifest hex>"
  uint64_t size = 0;                     // sum of compressed layer sizes
  std::string user;
  std::vector<std::string> entrypoint, cmd, env;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::vector<std::string> chain_ids;    // bottom-most layer first
};

// Space the store takes on its filesystem (CRI ImageFsInfo).
struct FsUsage {
  uint64_t used_bytes = 0;
  uint64_t inodes_used = 0;
};

}  // namespace berth::image
