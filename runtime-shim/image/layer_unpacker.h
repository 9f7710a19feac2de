// Unpacks one image layer (a tar stream, optionally gzip- or zstd-compressed)
// into its own snapshot directory, in the form overlayfs reads as a lowerdir.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace berth::image {

// Unpacks the layer at `blob_path` into `dest` (created if missing; expected
// empty) and returns the layer's diff id: "sha256:<hex>" of the uncompressed
// tar stream. Keeps file types, modes, owners, mtimes and xattrs; hard links
// must point inside the layer. OCI whiteouts become overlayfs ones:
// ".wh.<name>" a 0:0 character device <name>, ".wh..wh..opq" the
// trusted.overlay.opaque=y xattr on its directory.
//
// Nothing is ever written outside `dest`: an entry that is absolute, whose
// ".." climbs out, or whose parent path crosses a symlink is refused with
// InvalidArgument naming the entry. On any error `dest` is removed.
absl::StatusOr<std::string> UnpackLayer(const std::string& blob_path, const std::string& dest);

}  // namespace berth::image
