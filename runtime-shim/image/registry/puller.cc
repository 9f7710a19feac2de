#include "runtime-shim/image/registry/puller.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"

namespace berth::image::registry {

struct Puller::Staged {
  std::string digest;
  std::string path;
  bool in_store = false;  // path is the store's own copy: never unlinked here
  ~Staged() {
    if (!in_store) ::unlink(path.c_str());  // gone already when the store took it
  }
};

struct Puller::InFlight {
  bool done = false;
  absl::Status status;
  std::weak_ptr<Staged> blob;  // while someone still holds the downloaded file
};

Puller::Puller(ImageStore* store, std::shared_ptr<RegistryClient> client, PullOptions options)
    : store_(store), client_(std::move(client)), options_(std::move(options)) {}

Puller::~Puller() {
  if (staging_.empty()) return;
  absl::Status removed = RemoveAll(staging_);
  if (!removed.ok()) {
    BERTH_LOG(Error) << "remove pull staging: " << removed.message();
  }
}

absl::StatusOr<std::string> Puller::StagingDir() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!staging_.empty()) return staging_;
  std::string pattern = absl::StrCat(store_->root(), "/tmp/pull-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return ErrnoError(absl::StrCat("mkdtemp ", pattern));
  staging_ = buf.data();
  return staging_;
}

absl::StatusOr<std::shared_ptr<Puller::Staged>> Puller::StageBytes(const std::string& digest,
                                                                   const std::string& bytes) {
  ASSIGN_OR_RETURN(std::string dir, StagingDir());
  auto staged = std::make_shared<Staged>();
  staged->digest = digest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    staged->path = absl::StrCat(dir, "/", digest.substr(digest.find(':') + 1), ".", counter_++);
  }
  RETURN_IF_ERROR(AtomicWriteFile(staged->path, bytes, 0600));
  return staged;
}

absl::StatusOr<std::shared_ptr<Puller::Staged>> Puller::FetchShared(const Reference& ref, const Descriptor& blob,
                                                                    const Credentials& creds,
                                                                    const FetchProgress* progress) {
  ASSIGN_OR_RETURN(std::string dir, StagingDir());
  std::shared_ptr<InFlight> flight;
  std::shared_ptr<Staged> staged;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = in_flight_.find(blob.digest);
    if (it != in_flight_.end()) {
      std::shared_ptr<InFlight> other = it->second;
      cv_.wait(lock, [&] { return other->done; });
      if (!other->status.ok()) return other->status;
      if (std::shared_ptr<Staged> held = other->blob.lock()) return held;
      // Downloaded and already handed to the store: take the store's copy
      // (AddPulled keeps what is there). Dropped unused: fetch anew below.
      if (std::optional<std::string> kept = store_->BlobFile(blob.digest)) {
        auto in_store = std::make_shared<Staged>();
        in_store->digest = blob.digest;
        in_store->path = *kept;
        in_store->in_store = true;
        return in_store;
      }
    }
    for (auto e = in_flight_.begin(); e != in_flight_.end();) {
      e = (e->second->done && e->second->blob.expired()) ? in_flight_.erase(e) : std::next(e);
    }
    flight = std::make_shared<InFlight>();
    in_flight_[blob.digest] = flight;
    staged = std::make_shared<Staged>();
    staged->digest = blob.digest;
    staged->path = absl::StrCat(dir, "/", blob.digest.substr(blob.digest.find(':') + 1), ".", counter_++);
  }
  absl::Status status = client_->FetchBlob(ref, blob, staged->path, creds, progress);
  {
    std::lock_guard<std::mutex> lock(mu_);
    flight->done = true;
    flight->status = status;
    if (status.ok()) flight->blob = staged;
    if (!status.ok()) in_flight_.erase(blob.digest);
  }
  cv_.notify_all();
  if (!status.ok()) return status;
  return staged;
}

absl::StatusOr<Image> Puller::Pull(const std::string& reference, const Credentials& creds) {
  absl::StatusOr<Reference> ref = ParseReference(reference);
  if (!ref.ok()) return Annotate(ref.status(), absl::StrCat("pull ", reference));
  absl::StatusOr<Image> image = PullOnce(*ref, creds);
  if (absl::IsAborted(image.status())) {
    // A layer this pull meant to reuse was garbage-collected meanwhile.
    image = PullOnce(*ref, creds);
  }
  if (!image.ok()) return Annotate(image.status(), absl::StrCat("pull ", ref->Name()));
  return image;
}

absl::StatusOr<Image> Puller::PullOnce(const Reference& ref, const Credentials& creds) {
  const std::string host = RepositoryHost(ref.repository);
  const std::string top_ref = ref.digest.empty() ? ref.tag : ref.digest;
  ASSIGN_OR_RETURN(FetchedManifest top, client_->GetManifest(ref, top_ref, creds));
  absl::StatusOr<Manifest> manifest = ParseManifest(top.body, top.media_type);
  if (!manifest.ok()) return Annotate(manifest.status(), absl::StrCat("manifest ", top.digest, " from ", host));

  std::vector<std::shared_ptr<Staged>> held;  // keeps the staged files until the store took them
  PulledImage pulled;
  pulled.repository = ref.repository;
  if (!ref.tag.empty()) pulled.name = absl::StrCat(ref.repository, ":", ref.tag);
  pulled.manifest_digest = top.digest;
  ASSIGN_OR_RETURN(std::shared_ptr<Staged> top_file, StageBytes(top.digest, top.body));
  held.push_back(top_file);
  pulled.manifests.push_back(PulledBlob{top.digest, top_file->path});

  if (manifest->is_index) {
    absl::StatusOr<Descriptor> chosen = SelectPlatform(*manifest, options_.platform);
    if (!chosen.ok()) return Annotate(chosen.status(), absl::StrCat("index ", top.digest, " from ", host));
    ASSIGN_OR_RETURN(FetchedManifest child, client_->GetManifest(ref, chosen->digest, creds));
    if (static_cast<int64_t>(child.body.size()) != chosen->size) {
      return absl::DataLossError(absl::StrCat("manifest ", chosen->digest, " from ", host, ": ", child.body.size(),
                                              " bytes, the index gives ", chosen->size));
    }
    manifest = ParseManifest(child.body, child.media_type);
    if (!manifest.ok()) return Annotate(manifest.status(), absl::StrCat("manifest ", child.digest, " from ", host));
    if (manifest->is_index) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest ", child.digest, " from ", host, " is an index inside an index"));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<Staged> child_file, StageBytes(child.digest, child.body));
    held.push_back(child_file);
    pulled.manifests.push_back(PulledBlob{child.digest, child_file->path});
  }

  absl::StatusOr<std::shared_ptr<Staged>> config = FetchShared(ref, manifest->config, creds);
  if (!config.ok()) return config.status();
  held.push_back(*config);
  pulled.config = PulledBlob{manifest->config.digest, (*config)->path};
  for (const Descriptor& layer : manifest->layers) pulled.layers.push_back(BlobDescriptor{layer.digest, layer.size});

  auto fetch_layers = [&](const std::vector<BlobDescriptor>& missing)
      -> absl::StatusOr<std::map<std::string, std::string>> {
    // Progress of this pull's downloads: logged at most every
    // progress_log_interval; no byte for progress_deadline cancels it.
    struct {
      std::mutex mu;
      absl::Time last_progress = absl::Now(), last_log = absl::Now();
      int64_t bytes = 0, total = 0;
      size_t layers_done = 0;
    } progress;
    for (const BlobDescriptor& b : missing) progress.total += b.size;
    auto hooks_for = [&](const std::string& digest) {
      FetchProgress hooks;
      hooks.on_bytes = [&progress, &ref, &missing, this](int64_t n) {
        std::lock_guard<std::mutex> lock(progress.mu);
        progress.bytes += n;
        absl::Time now = absl::Now();
        progress.last_progress = now;
        if (now - progress.last_log >= options_.progress_log_interval) {
          progress.last_log = now;
          BERTH_LOG(Info) << "pull progress" << Kv("image", ref.Name())
                          << Kv("bytes", static_cast<long long>(progress.bytes))
                          << Kv("of", static_cast<long long>(progress.total))
                          << Kv("layers_done", static_cast<long long>(progress.layers_done))
                          << Kv("layers", static_cast<long long>(missing.size()));
        }
      };
      hooks.keep_going = [&progress, &ref, &missing, digest, this]() -> absl::Status {
        std::lock_guard<std::mutex> lock(progress.mu);
        absl::Duration idle = absl::Now() - progress.last_progress;
        if (idle < options_.progress_deadline) return absl::OkStatus();
        return absl::DeadlineExceededError(absl::StrCat(
            "pull ", ref.Name(), ": no progress for ", absl::FormatDuration(idle), " (deadline ",
            absl::FormatDuration(options_.progress_deadline), ") while fetching layer ", digest, "; ",
            progress.bytes, " of ", progress.total, " bytes and ", progress.layers_done, " of ", missing.size(),
            " layers done; cancelled"));
      };
      return hooks;
    };
    std::vector<std::shared_ptr<Staged>> results(missing.size());
    std::vector<absl::Status> statuses(missing.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::atomic<size_t> done{0};
    auto worker = [&] {
      while (!failed.load()) {
        size_t i = next.fetch_add(1);
        if (i >= missing.size()) return;
        Descriptor d;
        d.digest = missing[i].digest;
        d.size = missing[i].size;
        FetchProgress hooks = hooks_for(d.digest);
        absl::StatusOr<std::shared_ptr<Staged>> got = FetchShared(ref, d, creds, &hooks);
        if (!got.ok()) {
          statuses[i] = got.status();
          failed = true;
          return;
        }
        results[i] = *got;
        {
          std::lock_guard<std::mutex> lock(progress.mu);
          ++progress.layers_done;
          progress.last_progress = absl::Now();  // a layer shared with another pull counts too
        }
        BERTH_LOG(Info) << "layer downloaded" << Kv("image", ref.Name()) << Kv("layer", d.digest)
                        << Kv("bytes", d.size) << Kv("done", static_cast<long long>(done.fetch_add(1) + 1))
                        << Kv("of", static_cast<long long>(missing.size()));
      }
    };
    size_t n = std::min<size_t>(missing.size(), static_cast<size_t>(std::max(1, options_.max_concurrent_downloads)));
    std::vector<std::thread> threads;
    for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    for (const absl::Status& s : statuses) {
      if (!s.ok()) return s;
    }
    std::map<std::string, std::string> files;
    for (const std::shared_ptr<Staged>& r : results) {
      held.push_back(r);
      files[r->digest] = r->path;
    }
    return files;
  };
  return store_->AddPulled(pulled, fetch_layers);
}

}  // namespace berth::image::registry
