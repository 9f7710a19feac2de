// Image garbage collection as the kubelet does it: when the filesystem that
// holds the store is used above a high threshold, remove unused images least
// recently used first until usage drops under the low threshold. An image a
// container uses is never removed; an image first seen less than a minimum
// age ago is kept.
//
// "Last used" is the last time a container was created from the image, it
// was pulled, or a collection saw a container using it. It is kept, with the
// time each image was first seen, in a small JSON side file written
// atomically (<store root>/../image-gc-state.json by default).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime-shim/image/image_store.h"

namespace berth::image {

struct DiskUsage {
  uint64_t capacity_bytes = 0;
  uint64_t available_bytes = 0;
};

// Where disk usage comes from; tests inject a fake.
using DiskUsageFn = std::function<absl::StatusOr<DiskUsage>()>;

// statfs(2) of the filesystem holding `path` (blocks available to non-root
// count as used, as df does).
DiskUsageFn StatfsDiskUsage(std::string path);

struct ImageGcPolicy {
  int high_threshold_percent = 85;  // kubelet --image-gc-high-threshold
  int low_threshold_percent = 80;   // kubelet --image-gc-low-threshold
  absl::Duration min_age = absl::Minutes(2);  // kubelet imageMinimumGCAge
};

// InvalidArgument naming the field and value: thresholds outside 0..100, or
// low above high.
absl::Status ValidateImageGcPolicy(const ImageGcPolicy& policy);

struct ImageGcResult {
  int usage_percent_before = 0;
  int usage_percent_after = 0;
  std::vector<std::string> removed;  // image ids, in removal order
};

class ImageGc {
 public:
  // `state_file` keeps first-seen and last-used times across restarts.
  ImageGc(ImageStore* store, ImageGcPolicy policy, DiskUsageFn usage, std::string state_file,
          std::function<absl::Time()> now = absl::Now);

  // Records that the image (any reference Resolve takes) was used now: a
  // container was created from it or it was pulled.
  void MarkUsed(const std::string& image_ref);

  // One collection. `in_use` holds the image ids ("sha256:<hex>") containers
  // use. Does nothing when usage is at or below the high threshold.
  absl::StatusOr<ImageGcResult> Collect(const std::set<std::string>& in_use);

  const ImageGcPolicy& policy() const { return policy_; }

 private:
  struct Times {
    absl::Time first_seen;
    absl::Time last_used;
  };
  void LoadLocked();
  absl::Status SaveLocked();

  ImageStore* const store_;
  const ImageGcPolicy policy_;
  const DiskUsageFn usage_;
  const std::string state_file_;
  const std::function<absl::Time()> now_;
  std::mutex mu_;
  bool loaded_ = false;
  std::map<std::string, Times> times_;  // by image id
};

}  // namespace berth::image
