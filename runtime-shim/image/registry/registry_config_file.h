// The node's registry configuration file (default /etc/berth/registries.yaml,
// berth-agent --registry-config): per registry host its mirrors (tried in
// order), credentials, CA file and whether it is plain HTTP.
//
//   registries:
//     docker.io:
//       mirrors: ["https://mirror.example:5000", "http://10.0.0.5:5000"]
//     registry.example:
//       ca_file: /etc/berth/certs/registry.example.pem
//       auth: {username: alice, password: secret}   # or {identity_token: ...}
//     10.0.0.5:5000:
//       insecure: true
//
// Unknown keys and bad values are errors naming the key path and the value.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/image/registry/registry_client.h"

namespace berth::image::registry {

// Parses the YAML text; `source` names it in errors.
absl::StatusOr<RegistryConfig> ParseRegistryConfig(const std::string& text, const std::string& source);

// Reads and parses `path`. A missing file is an empty config when
// `missing_ok` (the default path), NotFound otherwise.
absl::StatusOr<RegistryConfig> LoadRegistryConfig(const std::string& path, bool missing_ok);

// Marks each "host[:port]" insecure (berth-agent --insecure-registry).
absl::Status AddInsecureHosts(RegistryConfig& config, const std::vector<std::string>& hosts);

// The manifest URLs a reference is tried at, in order:
// "https://mirror.example:5000/v2/library/busybox/manifests/latest", ...
absl::StatusOr<std::vector<std::string>> ResolveManifestUrls(const RegistryConfig& config,
                                                             const std::string& reference);

}  // namespace berth::image::registry
