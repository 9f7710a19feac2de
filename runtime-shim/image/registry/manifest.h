// Registry manifests: OCI image manifest and index, Docker schema 2 manifest
// and manifest list; and choosing this node's platform from an index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::image::registry {

inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestList[] = "application/vnd.docker.distribution.manifest.list.v2+json";

// The Accept header value for manifest requests.
std::string ManifestAccept();

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string String() const;  // "linux/arm64/v8"
};

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
  Platform platform;   // index entries only
};

struct Manifest {
  bool is_index = false;
  std::string media_type;
  Descriptor config;               // image manifests
  std::vector<Descriptor> layers;  // image manifests, bottom-most first
  std::vector<Descriptor> manifests;  // indexes
};

// Parses a manifest body. The kind comes from its mediaType, else from
// `content_type`, else from its fields. InvalidArgument naming the field for
// malformed input; Unimplemented for schema 1 and other unknown kinds.
absl::StatusOr<Manifest> ParseManifest(absl::string_view body, absl::string_view content_type);

// This node's platform: linux, the host architecture, its variant (v8 on arm64).
Platform HostPlatform();

// The entry of `index` for `want`: same os and architecture, and the same
// variant (an empty variant matches the architecture's default; an exact
// variant is preferred). NotFound listing the platforms the index has.
absl::StatusOr<Descriptor> SelectPlatform(const Manifest& index, const Platform& want);

}  // namespace berth::image::registry
