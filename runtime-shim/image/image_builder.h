// Builds a single-layer OCI image archive (an OCI image layout in a tar,
// what `berth-agent images import` and the import dir accept) from files on
// this host: berthadm packs the host's berth-controlplane binary and the
// shared libraries it needs into the image its static pod runs. The layer is
// an uncompressed tar (so one pass gives both its digest and its diff id),
// streamed from the files, never held in memory; entries are sorted, owned
// by 0:0 with mtime 0, so the same files give the same image id.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::image {

struct ImageBuildSpec {
  std::string name;  // "localhost/berth/controlplane:v0.1.0"
  // Host file -> absolute path in the image (parent dirs are made 0755).
  struct File {
    std::string host_path;
    std::string image_path;
  };
  std::vector<File> files;
  // Symlinks in the image: path -> target (e.g. "/lib64" -> "usr/lib64").
  std::vector<std::pair<std::string, std::string>> symlinks;
  std::vector<std::string> entrypoint;
  std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
};

// Writes the archive to `out_path` (atomically) and returns the image id
// ("sha256:<config digest>"). A missing host file or a relative image path
// is refused naming it.
absl::StatusOr<std::string> BuildImageArchive(const ImageBuildSpec& spec, const std::string& out_path);

}  // namespace berth::image
