// berth's local image store: a content store of blobs by digest, unpacked
// layer snapshots shared between images, and one record per image. It backs
// the CRI ImageService; registry pulls feed it through the same paths later.
//
// Layout under root (e.g. /var/lib/berth/images):
//   blobs/sha256/<hex>           manifests, configs, compressed layers
//   snapshots/<chain-id hex>/fs  one unpacked layer, an overlayfs lowerdir
//   images/<config hex>.json     the image record (ImageRecord)
//   tmp/                         import staging, emptied by Open
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime-shim/image/image.h"
#include "runtime-shim/image/image_archive.h"
#include "runtime-shim/image/image_record.h"

namespace berth::image {

// A verified blob file, outside the store, that AddPulled may move in.
struct PulledBlob {
  std::string digest;  // "sha256:<hex>"
  std::string file;    // its content, already checked against digest
};

// An image fetched from a registry, as AddPulled takes it.
struct PulledImage {
  std::string name;             // "docker.io/library/busybox:latest"; empty when pulled by digest only
  std::string repository;       // "docker.io/library/busybox"
  std::string manifest_digest;  // the top-level manifest (or index) digest: the repo digest
  std::vector<PulledBlob> manifests;  // that manifest, and the platform's when it was an index
  PulledBlob config;
  std::vector<BlobDescriptor> layers;  // compressed layer blobs, bottom-most first
};

// Fetches, verified, the layers the store lacks (neither snapshot nor blob):
// returns each one's file by digest.
using LayerFetcher =
    std::function<absl::StatusOr<std::map<std::string, std::string>>(const std::vector<BlobDescriptor>& missing)>;

class ImageStore {
 public:
  // Creates the layout if needed, loads the records, and cleans what a crash
  // left: staging files, snapshots never completed, blobs and snapshots no
  // image references.
  static absl::StatusOr<std::unique_ptr<ImageStore>> Open(const std::string& root);

  // Imports every image of an OCI layout or docker-archive tar (optionally
  // gzip-compressed; layers gzip, zstd or plain). Digests and diff ids are
  // verified; a snapshot already present is reused. A name the archive gives
  // an image is taken from any other image that had it.
  absl::StatusOr<std::vector<Image>> Import(const std::string& archive_path);

  // Adds an image pulled from a registry (image_store_pull.cc). Parses the
  // config, asks `fetch_layers` (called without the store lock) for the
  // layers whose snapshot and blob are both missing, moves the blobs in,
  // unpacks the layers like Import and records `name` and
  // repository@manifest_digest. On error nothing of this image remains
  // (blobs already shared with other images stay).
  absl::StatusOr<Image> AddPulled(const PulledImage& pulled, const LayerFetcher& fetch_layers);

  std::vector<Image> List() const;

  // By name ("busybox", "docker.io/library/busybox:latest"), id
  // ("sha256:<hex>" or bare hex), a unique id prefix of 3+ hex characters, or
  // repo digest ("busybox@sha256:<manifest hex>"). NotFound otherwise.
  absl::StatusOr<Image> Resolve(const std::string& ref) const;

  // Removes the image (all its names) and garbage-collects the snapshots and
  // blobs no image references any more. NotFound when there is no such image.
  absl::Status Remove(const std::string& ref);

  // The store's record of the image `ref` resolves to (as Resolve), with the
  // manifest and layer blobs it holds.
  absl::StatusOr<ImageRecord> Record(const std::string& ref) const;

  // The image's snapshot fs dirs, top-most layer first (overlayfs lowerdir order).
  absl::StatusOr<std::vector<std::string>> LayerDirs(const Image& image) const;

  // The store's file for the blob when it has it ("sha256:<hex>").
  std::optional<std::string> BlobFile(const std::string& digest) const;

  // Bytes (allocated blocks) and inodes used under root.
  absl::StatusOr<FsUsage> Usage() const;

  const std::string& root() const { return root_; }

 private:
  explicit ImageStore(std::string root) : root_(std::move(root)) {}

  absl::Status CleanLeftovers();
  absl::Status LoadRecords();
  absl::Status CollectGarbage();
  absl::StatusOr<Image> ResolveLocked(const std::string& ref) const;
  absl::Status WriteRecord(const ImageRecord& record);
  // Unpacks the layer into snapshots/<chain hex> unless it is there already.
  absl::Status EnsureSnapshot(const std::string& chain_id, const std::string& blob_digest,
                              const std::string& diff_id);

  std::string BlobPath(const std::string& digest) const;
  std::string SnapshotPath(const std::string& chain_id) const;
  std::string RecordPath(const std::string& id) const;

  const std::string root_;
  mutable std::mutex mu_;
  std::map<std::string, ImageRecord> records_;  // by image id
};

}  // namespace berth::image
