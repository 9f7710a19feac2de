// Pulls images from registries into the ImageStore: manifest (index ->
// this node's platform), config, the layers the store lacks fetched
// concurrently, every digest verified, layers unpacked by the store.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime-shim/image/image.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/image/registry/manifest.h"
#include "runtime-shim/image/registry/registry_client.h"

namespace berth::image::registry {

struct PullOptions {
  int max_concurrent_downloads = 3;   // layers fetched at once per pull
  Platform platform = HostPlatform();  // what to pick from an index
  // A pull whose layer downloads make no progress (no byte arrives) for this
  // long is cancelled (kubelet's --image-pull-progress-deadline).
  absl::Duration progress_deadline = absl::Minutes(1);
  absl::Duration progress_log_interval = absl::Seconds(5);  // progress lines, per pull
};

class Puller {
 public:
  // `store` and `client` must outlive the Puller. Thread-safe: concurrent
  // pulls of the same blob download it once.
  Puller(ImageStore* store, std::shared_ptr<RegistryClient> client, PullOptions options = {});
  ~Puller();
  Puller(const Puller&) = delete;
  Puller& operator=(const Puller&) = delete;

  // Pulls `reference` ("busybox", "host:5000/app:1.0", "repo@sha256:...",
  // "repo:tag@sha256:..."), records its tag (when it has one) and the repo
  // digest repository@<manifest digest>, and returns the image. Errors name
  // the reference, the registry host and the digest: NotFound for an unknown
  // tag or no matching platform, DataLoss for a digest or size mismatch,
  // Unauthenticated for refused credentials.
  absl::StatusOr<Image> Pull(const std::string& reference, const Credentials& creds = {});

 private:
  struct Staged;  // a verified file under the staging dir, removed with the last holder
  struct InFlight;

  absl::StatusOr<std::shared_ptr<Staged>> FetchShared(const Reference& ref, const Descriptor& blob,
                                                      const Credentials& creds,
                                                      const FetchProgress* progress = nullptr);
  absl::StatusOr<std::shared_ptr<Staged>> StageBytes(const std::string& digest, const std::string& bytes);
  absl::StatusOr<std::string> StagingDir();
  absl::StatusOr<Image> PullOnce(const Reference& ref, const Credentials& creds);

  ImageStore* const store_;
  std::shared_ptr<RegistryClient> client_;
  const PullOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<InFlight>> in_flight_;  // by digest
  std::string staging_;
  uint64_t counter_ = 0;
};

}  // namespace berth::image::registry
