// Image references as Docker and the CRI spell them, normalized to their
// full form: "busybox" -> "docker.io/library/busybox:latest".
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::image {

struct Reference {
  std::string repository;  // "docker.io/library/busybox"
  std::string tag;         // "latest"; empty when only a digest was given
  std::string digest;      // "sha256:<hex>" or empty

  // "repository:tag", or "repository@digest" when there is no tag.
  std::string Name() const;
};

// Parses and normalizes: the domain defaults to docker.io (the first path
// component is a domain when it has a '.' or ':' or is "localhost"),
// docker.io names with one component get "library/", and a reference with
// neither tag nor digest gets ":latest". InvalidArgument for anything else.
absl::StatusOr<Reference> ParseReference(absl::string_view ref);

// ParseReference(ref)->Name().
absl::StatusOr<std::string> NormalizeName(absl::string_view ref);

}  // namespace berth::image
