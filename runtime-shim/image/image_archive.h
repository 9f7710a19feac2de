// Reads image archives for import: an OCI image layout tar (oci-layout,
// index.json, blobs/sha256/...) or a docker-archive tar (manifest.json, as
// `docker save` writes), either one optionally gzip-compressed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::image {

struct BlobDescriptor {
  std::string digest;  // "sha256:<hex>"
  int64_t size = 0;
};

struct ArchiveImage {
  std::vector<std::string> names;  // normalized: "docker.io/library/busybox:latest"
  std::string manifest_digest;     // empty for a docker-archive
  BlobDescriptor config;
  std::vector<BlobDescriptor> layers;  // bottom-most first
};

struct ImageArchive {
  std::vector<ArchiveImage> images;
  // Every blob the images reference, by digest, as a file under the staging
  // dir whose content was checked against that digest.
  std::map<std::string, std::string> blob_files;
};

// Extracts the archive's files into `staging_dir` (which the caller removes),
// hashing each, and resolves its images. Blobs named by digest must match
// it; descriptor sizes must match; a missing blob, bad JSON or an invalid
// name is InvalidArgument naming the file and field. `architecture` picks
// the entry of a multi-platform index ("amd64").
absl::StatusOr<ImageArchive> ReadImageArchive(const std::string& archive_path,
                                              const std::string& staging_dir,
                                              const std::string& architecture);

// The OCI architecture name of this host ("amd64", "arm64", ...).
std::string HostArchitecture();

}  // namespace berth::image
