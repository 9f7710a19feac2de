// ImageStore::AddPulled: the registry puller's way into the store. The
// layers go through the same snapshot path as Import (EnsureSnapshot).
#include <stdio.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/image_config.h"
#include "runtime-shim/image/image_store.h"

namespace berth::image {
namespace {

void AddOnce(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

}  // namespace

absl::StatusOr<Image> ImageStore::AddPulled(const PulledImage& pulled, const LayerFetcher& fetch_layers) {
  const std::string context = absl::StrCat("add pulled image ", pulled.name.empty() ? pulled.repository : pulled.name,
                                           "@", pulled.manifest_digest);
  RETURN_IF_ERROR(DigestHex(pulled.config.digest, "config digest").status());
  for (const BlobDescriptor& layer : pulled.layers) RETURN_IF_ERROR(DigestHex(layer.digest, "layer digest").status());
  for (const PulledBlob& m : pulled.manifests) RETURN_IF_ERROR(DigestHex(m.digest, "manifest digest").status());

  ImageRecord record;
  Image& image = record.image;
  image.id = pulled.config.digest;
  // A concurrent pull of the same image may have moved the shared file into the store already.
  absl::StatusOr<std::string> config_text = ReadFile(pulled.config.file);
  if (absl::IsNotFound(config_text.status())) config_text = ReadFile(BlobPath(pulled.config.digest));
  if (absl::IsNotFound(config_text.status())) {
    return absl::AbortedError(absl::StrCat(context, ": config ", pulled.config.digest,
                                           " vanished (a concurrent pull failed); pull again"));
  }
  if (!config_text.ok()) return Annotate(config_text.status(), context);
  if (Sha256Digest(*config_text) != pulled.config.digest) {
    return absl::DataLossError(absl::StrCat(context, ": config file does not match ", pulled.config.digest));
  }
  absl::StatusOr<ImageConfig> config = ParseImageConfig(*config_text, image);
  if (!config.ok()) return Annotate(config.status(), absl::StrCat(context, ": config ", image.id));
  if (config->diff_ids.size() != pulled.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": config has ", config->diff_ids.size(),
                                                   " rootfs.diff_ids for ", pulled.layers.size(), " layers"));
  }
  image.chain_ids = ChainIds(config->diff_ids);

  std::vector<BlobDescriptor> missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < pulled.layers.size(); ++i) {
      if (PathExists(SnapshotPath(image.chain_ids[i])) || PathExists(BlobPath(pulled.layers[i].digest))) continue;
      bool listed = std::any_of(missing.begin(), missing.end(),
                                [&](const BlobDescriptor& d) { return d.digest == pulled.layers[i].digest; });
      if (!listed) missing.push_back(pulled.layers[i]);
    }
  }
  std::map<std::string, std::string> fetched;
  if (!missing.empty()) {
    ASSIGN_OR_RETURN(fetched, fetch_layers(missing));
    for (const BlobDescriptor& d : missing) {
      if (!fetched.count(d.digest)) {
        return absl::InternalError(absl::StrCat(context, ": layer ", d.digest, " was not fetched"));
      }
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  absl::Status status = [&]() -> absl::Status {
    auto move_in = [&](const std::string& digest, const std::string& file) -> absl::Status {
      std::string dest = BlobPath(digest);
      if (PathExists(dest)) return absl::OkStatus();
      if (::rename(file.c_str(), dest.c_str()) != 0) {
        if (errno == ENOENT) {
          return absl::AbortedError(absl::StrCat("blob ", digest, " vanished (a concurrent pull failed); pull again"));
        }
        return ErrnoError(absl::StrCat("move blob ", digest, " from ", file, " into the store"));
      }
      return absl::OkStatus();
    };
    for (const PulledBlob& m : pulled.manifests) {
      RETURN_IF_ERROR(move_in(m.digest, m.file));
      AddOnce(record.manifest_digests, m.digest);
    }
    RETURN_IF_ERROR(move_in(pulled.config.digest, pulled.config.file));
    for (const auto& [digest, file] : fetched) RETURN_IF_ERROR(move_in(digest, file));
    for (size_t i = 0; i < pulled.layers.size(); ++i) {
      const BlobDescriptor& layer = pulled.layers[i];
      if (!PathExists(SnapshotPath(image.chain_ids[i])) && !PathExists(BlobPath(layer.digest))) {
        return absl::AbortedError(absl::StrCat("layer ", layer.digest,
                                               " was removed from the store during the pull; pull again"));
      }
      RETURN_IF_ERROR(EnsureSnapshot(image.chain_ids[i], layer.digest, config->diff_ids[i]));
      record.layer_digests.push_back(layer.digest);
      image.size += static_cast<uint64_t>(layer.size);
    }

    auto existing = records_.find(image.id);
    if (existing != records_.end()) {
      image.repo_tags = existing->second.image.repo_tags;
      image.repo_digests = existing->second.image.repo_digests;
      for (const std::string& d : existing->second.manifest_digests) AddOnce(record.manifest_digests, d);
    }
    if (!pulled.name.empty()) AddOnce(image.repo_tags, pulled.name);
    if (!pulled.manifest_digest.empty()) {
      AddOnce(image.repo_digests, absl::StrCat(pulled.repository, "@", pulled.manifest_digest));
    }
    // A tag belongs to one image: take it from the others.
    if (!pulled.name.empty()) {
      for (auto& [other_id, other] : records_) {
        if (other_id == image.id) continue;
        auto& tags = other.image.repo_tags;
        auto kept = std::remove(tags.begin(), tags.end(), pulled.name);
        if (kept == tags.end()) continue;
        tags.erase(kept, tags.end());
        RETURN_IF_ERROR(WriteRecord(other));
      }
    }
    RETURN_IF_ERROR(WriteRecord(record));
    records_[image.id] = record;
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    absl::Status gc = CollectGarbage();
    if (!gc.ok()) {
      BERTH_LOG(Error) << "garbage collection after failed pull: " << gc.message();
    }
    return Annotate(status, context);
  }
  return image;
}

}  // namespace berth::image
