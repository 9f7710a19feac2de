// Writes images of the store as an OCI image layout tar (oci-layout,
// index.json, blobs/sha256/<hex>) that `ImageStore::Import`, `berth-agent
// images import` and `ctr -n k8s.io images import` read back.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime-shim/image/image_store.h"

namespace berth::image {

// Exports the images `refs` resolve to (any form Resolve takes) into
// `out_path`, written to a temporary file and renamed into place. The blobs
// go as stored (the image manifest, the config, the compressed layers);
// index.json has one entry per name, annotated with io.containerd.image.name
// (the full name) and org.opencontainers.image.ref.name (the tag). A
// reference the store does not have is NotFound naming it, and no file is
// written.
absl::Status ExportImages(const ImageStore& store, const std::vector<std::string>& refs,
                          const std::string& out_path);

}  // namespace berth::image
