// Test support: Debian's docker-registry (distribution v2) on a free
// loopback port, and pushing an OCI image layout into it through the push
// API. Used by the puller's integration tests and the CRI end-to-end tests.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::image::registry::testing {

inline constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";

// A free TCP port on 127.0.0.1 (-1 if none).
int FreeLoopbackPort();

struct LocalRegistry {
  pid_t pid = -1;
  std::string host;  // "127.0.0.1:PORT"
};

// Starts docker-registry serving `work`/storage on a free loopback port, with
// `extra` YAML appended to its config after http.addr (so it may continue the
// http block; `name` names the config and log files in `work`). With
// `tls_ca_file` it is probed over https. Waits (bounded) until /v2/ answers;
// the registry is killed if the calling process dies.
absl::StatusOr<LocalRegistry> StartLocalRegistry(const std::string& work, const std::string& name,
                                                 const std::string& extra = "",
                                                 const std::string& tls_ca_file = "");

// SIGTERM, a bounded wait, then SIGKILL; sets pid to -1.
void StopLocalRegistry(LocalRegistry& registry);

// Pushes the first manifest of the OCI image layout in `layout_dir` (its
// config and layer blobs, then the manifest) to http://host/<repo>:<tag>.
// Returns the manifest digest.
absl::StatusOr<std::string> PushOciLayout(const std::string& host, const std::string& layout_dir,
                                          const std::string& repo, const std::string& tag);

// The same for one blob and one manifest, for tests that build their own.
absl::Status PushBlob(const std::string& host, const std::string& repo, const std::string& digest,
                      const std::string& content);
absl::Status PushManifest(const std::string& host, const std::string& repo, const std::string& tag,
                          const std::string& media_type, const std::string& body);

}  // namespace berth::image::registry::testing
