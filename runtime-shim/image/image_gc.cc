#include "runtime-shim/image/image_gc.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace berth::image {
namespace {

using json = nlohmann::json;

int UsagePercent(const DiskUsage& usage) {
  if (usage.capacity_bytes == 0) return 0;
  uint64_t used = usage.capacity_bytes - std::min(usage.available_bytes, usage.capacity_bytes);
  return static_cast<int>((used * 100 + usage.capacity_bytes - 1) / usage.capacity_bytes);
}

}  // namespace

DiskUsageFn StatfsDiskUsage(std::string path) {
  return [path = std::move(path)]() -> absl::StatusOr<DiskUsage> {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) {
      return absl::InternalError(absl::StrCat("statfs ", path, ": ", std::strerror(errno)));
    }
    DiskUsage usage;
    usage.capacity_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
    usage.available_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    return usage;
  };
}

absl::Status ValidateImageGcPolicy(const ImageGcPolicy& policy) {
  if (policy.high_threshold_percent < 0 || policy.high_threshold_percent > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("image-gc-high-threshold: ", policy.high_threshold_percent, " is not a percent in 0..100"));
  }
  if (policy.low_threshold_percent < 0 || policy.low_threshold_percent > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("image-gc-low-threshold: ", policy.low_threshold_percent, " is not a percent in 0..100"));
  }
  if (policy.low_threshold_percent > policy.high_threshold_percent) {
    return absl::InvalidArgumentError(absl::StrCat("image-gc-low-threshold: ", policy.low_threshold_percent,
                                                   " is above image-gc-high-threshold ",
                                                   policy.high_threshold_percent));
  }
  if (policy.min_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image minimum GC age: ", absl::FormatDuration(policy.min_age), " is negative"));
  }
  return absl::OkStatus();
}

ImageGc::ImageGc(ImageStore* store, ImageGcPolicy policy, DiskUsageFn usage, std::string state_file,
                 std::function<absl::Time()> now)
    : store_(store),
      policy_(policy),
      usage_(std::move(usage)),
      state_file_(std::move(state_file)),
      now_(std::move(now)) {}

void ImageGc::LoadLocked() {
  if (loaded_) return;
  loaded_ = true;
  absl::StatusOr<std::string> text = ReadFile(state_file_);
  if (!text.ok()) return;  // first run: every image is first seen now
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    BERTH_LOG(Warning) << "image gc: " << state_file_ << " is not a JSON object; starting afresh";
    return;
  }
  for (auto& [id, entry] : doc.items()) {
    if (!entry.is_object()) continue;
    Times t;
    t.first_seen = absl::FromUnixSeconds(entry.value("first_seen", int64_t{0}));
    t.last_used = absl::FromUnixSeconds(entry.value("last_used", int64_t{0}));
    times_[id] = t;
  }
}

absl::Status ImageGc::SaveLocked() {
  json doc = json::object();
  for (const auto& [id, t] : times_) {
    doc[id] = {{"first_seen", absl::ToUnixSeconds(t.first_seen)}, {"last_used", absl::ToUnixSeconds(t.last_used)}};
  }
  return Annotate(AtomicWriteFile(state_file_, doc.dump()), "image gc state");
}

void ImageGc::MarkUsed(const std::string& image_ref) {
  absl::StatusOr<Image> image = store_->Resolve(image_ref);
  if (!image.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked();
  absl::Time now = now_();
  auto [it, inserted] = times_.try_emplace(image->id, Times{now, now});
  it->second.last_used = now;
  absl::Status saved = SaveLocked();
  if (!saved.ok()) {
    BERTH_LOG(Warning) << saved;
  }
}

absl::StatusOr<ImageGcResult> ImageGc::Collect(const std::set<std::string>& in_use) {
  std::lock_guard<std::mutex> lock(mu_);
  LoadLocked();
  absl::Time now = now_();
  // Bring the times up to date with the store: new images are first seen
  // now, images in use were used now, removed images are forgotten.
  std::map<std::string, Times> current;
  for (const Image& image : store_->List()) {
    auto it = times_.find(image.id);
    Times t = it != times_.end() ? it->second : Times{now, now};
    if (in_use.count(image.id) != 0) t.last_used = now;
    current[image.id] = t;
  }
  times_ = std::move(current);

  ImageGcResult result;
  ASSIGN_OR_RETURN(DiskUsage usage, usage_());
  result.usage_percent_before = result.usage_percent_after = UsagePercent(usage);
  if (result.usage_percent_before <= policy_.high_threshold_percent) {
    RETURN_IF_ERROR(SaveLocked());
    return result;
  }
  std::vector<std::pair<absl::Time, std::string>> candidates;
  for (const auto& [id, t] : times_) {
    if (in_use.count(id) != 0) continue;
    if (now - t.first_seen < policy_.min_age) continue;
    candidates.emplace_back(t.last_used, id);
  }
  std::sort(candidates.begin(), candidates.end());
  BERTH_LOG(Info) << "image gc: disk usage " << result.usage_percent_before << "% is above the high threshold "
                  << policy_.high_threshold_percent << "%; " << candidates.size()
                  << " unused images may go, least recently used first, until under "
                  << policy_.low_threshold_percent << "%";
  absl::Status first_error;
  for (const auto& [last_used, id] : candidates) {
    if (result.usage_percent_after < policy_.low_threshold_percent) break;
    absl::Status removed = store_->Remove(id);
    if (!removed.ok() && removed.code() != absl::StatusCode::kNotFound) {
      BERTH_LOG(Warning) << "image gc: remove " << id << ": " << removed;
      if (first_error.ok()) first_error = removed;
      continue;
    }
    times_.erase(id);
    result.removed.push_back(id);
    ASSIGN_OR_RETURN(usage, usage_());
    result.usage_percent_after = UsagePercent(usage);
    BERTH_LOG(Info) << "image gc: removed " << id << " (last used " << absl::FormatTime(last_used)
                    << "); disk usage now " << result.usage_percent_after << "%";
  }
  RETURN_IF_ERROR(SaveLocked());
  if (result.usage_percent_after >= policy_.low_threshold_percent) {
    BERTH_LOG(Warning) << "image gc: disk usage still " << result.usage_percent_after << "% after removing "
                       << result.removed.size() << " images (the rest are in use or younger than "
                       << absl::FormatDuration(policy_.min_age) << ")";
  }
  if (!first_error.ok()) return first_error;
  return result;
}

}  // namespace berth::image
