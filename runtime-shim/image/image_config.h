// The OCI image config blob: the process defaults and the layer diff ids.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime-shim/image/image.h"

namespace berth::image {

struct ImageConfig {
  std::string architecture;
  std::string os;
  std::vector<std::string> diff_ids;  // "sha256:<hex>", bottom-most first
};

// Parses `text`; fills the process fields (user, entrypoint, cmd, env,
// working_dir, labels, stop_signal) of `image` and returns the rest.
// InvalidArgument naming the field on malformed input.
absl::StatusOr<ImageConfig> ParseImageConfig(absl::string_view text, Image& image);

}  // namespace berth::image
