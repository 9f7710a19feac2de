// The store's record of one image (images/<config hex>.json): the Image the
// CRI sees plus the blobs it holds on to.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime-shim/image/image.h"

namespace berth::image {

struct ImageRecord {
  Image image;
  std::vector<std::string> manifest_digests;  // every manifest imported for this config
  std::vector<std::string> layer_digests;     // compressed layer blobs, bottom-most first
};

std::string EncodeImageRecord(const ImageRecord& record);
absl::StatusOr<ImageRecord> DecodeImageRecord(const std::string& text);

}  // namespace berth::image
