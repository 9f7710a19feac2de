// `berth-agent images check [--repair]`: an offline audit of an image store
// directory (the layout in image_store.h), without opening it as a store
// (ImageStore::Open would already clean up what the check is meant to show).
//
// It finds half-written leftovers, unreadable records, records whose blobs or
// snapshots are missing, blobs whose content no longer matches their digest,
// and snapshots and blobs no image references. It goes on past a bad entry.
// With repair it removes leftovers, orphans and corrupt blobs, and the record
// of every image that refers to something missing or corrupt (that image is
// gone; what other images use stays). It never removes the store itself.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::image {

struct StoreFinding {
  // "leftover" (half-written), "bad-record" (unreadable record), "corrupt-blob"
  // (content does not match the digest), "corrupt-snapshot" (no fs dir),
  // "invalid-record" (an image whose blobs or snapshots are missing or corrupt;
  // the detail names them), "orphaned-snapshot", "orphaned-blob" (referenced by
  // no image), "missing-dir" (part of the layout), "unreadable" (a directory).
  std::string kind;
  std::string path;
  std::string detail;
  bool repaired = false;
  std::string repair_error;  // why a repair failed

  // One line: "<kind> <path>: <detail>[: removed | : repair failed: ...]".
  std::string Line() const;
};

struct StoreCheckOptions {
  bool repair = false;
  std::function<void(const StoreFinding&)> on_finding;  // each one as it is settled
};

struct StoreCheckResult {
  std::vector<StoreFinding> findings;
  size_t blobs_verified = 0;
  size_t snapshots_seen = 0;
  size_t records_seen = 0;
  // Findings not repaired (all of them without repair).
  size_t Remaining() const;
};

// Error only when `root` itself cannot be read.
absl::StatusOr<StoreCheckResult> CheckImageStore(const std::string& root, const StoreCheckOptions& options);

}  // namespace berth::image
