#include "runtime-shim/image/image_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/image_archive.h"
#include "runtime-shim/image/image_config.h"
#include "runtime-shim/image/layer_unpacker.h"
#include "runtime-shim/image/reference.h"

namespace berth::image {
namespace {

constexpr char kTmpSuffix[] = ".tmp-";

std::string HexOf(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrCat(kTmpSuffix, rng() % 1000000000);
}

absl::Status AddUsage(int parent, const char* name, const std::string& shown,
                      std::set<std::pair<dev_t, ino_t>>& seen, FsUsage& usage) {
  struct stat st;
  if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("stat ", shown));
  }
  if (!seen.insert({st.st_dev, st.st_ino}).second) return absl::OkStatus();
  usage.used_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  usage.inodes_used += 1;
  if (!S_ISDIR(st.st_mode)) return absl::OkStatus();
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", shown));
  ASSIGN_OR_RETURN(std::vector<std::string> children, ListDir(absl::StrCat("/proc/self/fd/", fd)));
  absl::Status status;
  for (const std::string& child : children) {
    status = AddUsage(fd, child.c_str(), absl::StrCat(shown, "/", child), seen, usage);
    if (!status.ok()) break;
  }
  ::close(fd);
  return status;
}

}  // namespace

std::string ImageStore::BlobPath(const std::string& digest) const {
  return absl::StrCat(root_, "/blobs/sha256/", HexOf(digest));
}
std::string ImageStore::SnapshotPath(const std::string& chain_id) const {
  return absl::StrCat(root_, "/snapshots/", HexOf(chain_id));
}
std::string ImageStore::RecordPath(const std::string& id) const {
  return absl::StrCat(root_, "/images/", HexOf(id), ".json");
}

absl::StatusOr<std::unique_ptr<ImageStore>> ImageStore::Open(const std::string& root) {
  if (root.empty() || root[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("image store root '", root, "' must be an absolute path"));
  }
  std::unique_ptr<ImageStore> store(new ImageStore(CleanPath(root)));
  for (const char* dir : {"blobs/sha256", "snapshots", "images", "tmp"}) {
    RETURN_IF_ERROR(MkdirAll(absl::StrCat(store->root_, "/", dir), 0700));
  }
  std::lock_guard<std::mutex> lock(store->mu_);
  RETURN_IF_ERROR(store->CleanLeftovers());
  RETURN_IF_ERROR(store->LoadRecords());
  RETURN_IF_ERROR(store->CollectGarbage());
  return store;
}

absl::Status ImageStore::CleanLeftovers() {
  std::string tmp = absl::StrCat(root_, "/tmp");
  ASSIGN_OR_RETURN(std::vector<std::string> staged, ListDir(tmp));
  for (const std::string& name : staged) RETURN_IF_ERROR(RemoveAll(absl::StrCat(tmp, "/", name)));
  // Only complete entries have a bare hex (or hex.json) name; the rest are temporaries.
  struct Dir {
    std::string path;
    absl::string_view suffix;
  };
  for (const Dir& dir : {Dir{absl::StrCat(root_, "/snapshots"), ""},
                         Dir{absl::StrCat(root_, "/blobs/sha256"), ""},
                         Dir{absl::StrCat(root_, "/images"), ".json"}}) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir.path));
    for (const std::string& name : names) {
      bool complete = name.size() == 64 + dir.suffix.size() && absl::EndsWith(name, dir.suffix) &&
                      IsHex(absl::string_view(name).substr(0, 64));
      if (complete) continue;
      BERTH_LOG(Info) << "removing leftover from an interrupted operation" << Kv("path", dir.path + "/" + name);
      RETURN_IF_ERROR(RemoveAll(absl::StrCat(dir.path, "/", name)));
    }
  }
  return absl::OkStatus();
}

absl::Status ImageStore::LoadRecords() {
  std::string dir = absl::StrCat(root_, "/images");
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  for (const std::string& name : names) {
    std::string path = absl::StrCat(dir, "/", name);
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    absl::StatusOr<ImageRecord> record = DecodeImageRecord(text);
    if (!record.ok() || RecordPath(record->image.id) != path) {
      // Records are written atomically, so this is damage from outside: drop it.
      BERTH_LOG(Error) << "dropping unreadable image record" << Kv("path", path)
                       << Kv("error", record.ok() ? "id does not match file name" : record.status().ToString());
      if (::unlink(path.c_str()) != 0) return ErrnoError(absl::StrCat("unlink ", path));
      continue;
    }
    records_[record->image.id] = std::move(*record);
  }
  return absl::OkStatus();
}

absl::Status ImageStore::CollectGarbage() {
  std::set<std::string> snapshots, blobs;
  for (const auto& [id, record] : records_) {
    blobs.insert(HexOf(id));
    for (const std::string& d : record.manifest_digests) blobs.insert(HexOf(d));
    for (const std::string& d : record.layer_digests) blobs.insert(HexOf(d));
    for (const std::string& c : record.image.chain_ids) snapshots.insert(HexOf(c));
  }
  std::string snapshot_dir = absl::StrCat(root_, "/snapshots");
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(snapshot_dir));
  for (const std::string& name : names) {
    if (name.find(kTmpSuffix) != std::string::npos || snapshots.count(name)) continue;
    RETURN_IF_ERROR(RemoveAll(absl::StrCat(snapshot_dir, "/", name)));
  }
  std::string blob_dir = absl::StrCat(root_, "/blobs/sha256");
  ASSIGN_OR_RETURN(names, ListDir(blob_dir));
  for (const std::string& name : names) {
    if (blobs.count(name)) continue;
    std::string path = absl::StrCat(blob_dir, "/", name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(absl::StrCat("unlink ", path));
  }
  return absl::OkStatus();
}

absl::Status ImageStore::WriteRecord(const ImageRecord& record) {
  return AtomicWriteFile(RecordPath(record.image.id), EncodeImageRecord(record), 0600);
}

absl::Status ImageStore::EnsureSnapshot(const std::string& chain_id, const std::string& blob_digest,
                                        const std::string& diff_id) {
  std::string final_path = SnapshotPath(chain_id);
  if (PathExists(final_path)) return absl::OkStatus();
  std::string tmp = final_path + RandomSuffix();
  RETURN_IF_ERROR(MkdirAll(tmp, 0755));
  absl::StatusOr<std::string> got = UnpackLayer(BlobPath(blob_digest), tmp + "/fs");
  absl::Status status = got.status();
  if (status.ok() && *got != diff_id) {
    status = absl::InvalidArgumentError(absl::StrCat("layer ", blob_digest, ": uncompressed digest ", *got,
                                                     " does not match the config's diff id ", diff_id));
  }
  if (status.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    status = ErrnoError(absl::StrCat("rename ", tmp, " to ", final_path));
  }
  if (!status.ok()) {
    absl::Status removed = RemoveAll(tmp);
    if (!removed.ok()) {
      BERTH_LOG(Error) << "remove half-made snapshot: " << removed.message();
    }
  }
  return status;
}

absl::StatusOr<std::vector<Image>> ImageStore::Import(const std::string& archive_path) {
  std::lock_guard<std::mutex> lock(mu_);
  char staging_template[PATH_MAX];
  std::string pattern = absl::StrCat(root_, "/tmp/import-XXXXXX");
  if (pattern.size() >= sizeof(staging_template)) return absl::InvalidArgumentError("image store root too long");
  std::copy(pattern.begin(), pattern.end(), staging_template);
  staging_template[pattern.size()] = '\0';
  if (::mkdtemp(staging_template) == nullptr) return ErrnoError(absl::StrCat("mkdtemp ", pattern));
  std::string staging = staging_template;

  std::vector<Image> imported;
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(ImageArchive archive, ReadImageArchive(archive_path, staging, HostArchitecture()));
    for (const auto& [digest, file] : archive.blob_files) {
      std::string dest = BlobPath(digest);
      if (PathExists(dest)) continue;
      if (::rename(file.c_str(), dest.c_str()) != 0) return ErrnoError(absl::StrCat("rename ", file, " to ", dest));
    }
    for (const ArchiveImage& entry : archive.images) {
      ImageRecord record;
      Image& image = record.image;
      image.id = entry.config.digest;
      ASSIGN_OR_RETURN(std::string config_text, ReadFile(BlobPath(entry.config.digest)));
      absl::StatusOr<ImageConfig> config = ParseImageConfig(config_text, image);
      if (!config.ok()) return Annotate(config.status(), absl::StrCat("image ", image.id));
      if (config->diff_ids.size() != entry.layers.size()) {
        return absl::InvalidArgumentError(absl::StrCat("image ", image.id, ": config has ", config->diff_ids.size(),
                                                       " rootfs.diff_ids for ", entry.layers.size(), " layers"));
      }
      image.chain_ids = ChainIds(config->diff_ids);
      for (size_t i = 0; i < entry.layers.size(); ++i) {
        RETURN_IF_ERROR(EnsureSnapshot(image.chain_ids[i], entry.layers[i].digest, config->diff_ids[i]));
        record.layer_digests.push_back(entry.layers[i].digest);
        image.size += static_cast<uint64_t>(entry.layers[i].size);
      }
      if (!entry.manifest_digest.empty()) record.manifest_digests.push_back(entry.manifest_digest);

      auto existing = records_.find(image.id);
      if (existing != records_.end()) {
        image.repo_tags = existing->second.image.repo_tags;
        image.repo_digests = existing->second.image.repo_digests;
        for (const std::string& d : existing->second.manifest_digests) AddUnique(record.manifest_digests, d);
      }
      for (const std::string& name : entry.names) {
        AddUnique(image.repo_tags, name);
        if (!entry.manifest_digest.empty()) {
          ASSIGN_OR_RETURN(Reference ref, ParseReference(name));
          AddUnique(image.repo_digests, absl::StrCat(ref.repository, "@", entry.manifest_digest));
        }
      }
      // A name belongs to one image: take it from the others.
      for (auto& [other_id, other] : records_) {
        if (other_id == image.id) continue;
        auto& tags = other.image.repo_tags;
        auto kept = std::remove_if(tags.begin(), tags.end(), [&](const std::string& t) {
          return std::find(entry.names.begin(), entry.names.end(), t) != entry.names.end();
        });
        if (kept == tags.end()) continue;
        tags.erase(kept, tags.end());
        RETURN_IF_ERROR(WriteRecord(other));
      }
      RETURN_IF_ERROR(WriteRecord(record));
      records_[image.id] = record;
      imported.push_back(image);
    }
    return absl::OkStatus();
  }();

  absl::Status cleaned = RemoveAll(staging);
  if (!cleaned.ok()) {
    BERTH_LOG(Error) << "remove import staging: " << cleaned.message();
  }
  if (!status.ok()) {
    absl::Status gc = CollectGarbage();
    if (!gc.ok()) {
      BERTH_LOG(Error) << "garbage collection after failed import: " << gc.message();
    }
    return Annotate(status, absl::StrCat("import ", archive_path));
  }
  return imported;
}

std::vector<Image> ImageStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Image> out;
  for (const auto& [id, record] : records_) out.push_back(record.image);
  return out;
}

absl::StatusOr<Image> ImageStore::Resolve(const std::string& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ResolveLocked(ref);
}

absl::StatusOr<Image> ImageStore::ResolveLocked(const std::string& ref) const {
  auto not_found = [&] { return absl::NotFoundError(absl::StrCat("image '", ref, "' not found")); };
  absl::string_view hex = ref;
  bool id_form = absl::ConsumePrefix(&hex, "sha256:");
  if (hex.size() == 64 && IsHex(hex)) {
    auto it = records_.find(absl::StrCat("sha256:", hex));
    if (it != records_.end()) return it->second.image;
    if (id_form) return not_found();
  }
  if (!id_form) {
    absl::StatusOr<Reference> parsed = ParseReference(ref);
    if (parsed.ok()) {
      for (const auto& [id, record] : records_) {
        const Image& image = record.image;
        if (!parsed->digest.empty()) {
          std::string repo_digest = absl::StrCat(parsed->repository, "@", parsed->digest);
          if (std::find(image.repo_digests.begin(), image.repo_digests.end(), repo_digest) !=
              image.repo_digests.end()) {
            return image;
          }
        } else if (std::find(image.repo_tags.begin(), image.repo_tags.end(), parsed->Name()) !=
                   image.repo_tags.end()) {
          return image;
        }
      }
    }
  }
  if (hex.size() >= 3 && hex.size() < 64 && IsHex(hex)) {
    const ImageRecord* match = nullptr;
    std::string prefix = absl::StrCat("sha256:", hex);
    for (const auto& [id, record] : records_) {
      if (!absl::StartsWith(id, prefix)) continue;
      if (match != nullptr) {
        return absl::FailedPreconditionError(absl::StrCat("image id prefix '", ref, "' is ambiguous"));
      }
      match = &record;
    }
    if (match != nullptr) return match->image;
  }
  return not_found();
}

absl::Status ImageStore::Remove(const std::string& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Image image, ResolveLocked(ref));
  std::string path = RecordPath(image.id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(absl::StrCat("unlink ", path));
  records_.erase(image.id);
  return Annotate(CollectGarbage(), absl::StrCat("remove image ", image.id));
}

absl::StatusOr<ImageRecord> ImageStore::Record(const std::string& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Image image, ResolveLocked(ref));
  return records_.at(image.id);
}

absl::StatusOr<std::vector<std::string>> ImageStore::LayerDirs(const Image& image) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> dirs;
  for (auto it = image.chain_ids.rbegin(); it != image.chain_ids.rend(); ++it) {
    ASSIGN_OR_RETURN(std::string hex, DigestHex(*it, "chain id"));
    std::string dir = absl::StrCat(root_, "/snapshots/", hex, "/fs");
    if (!PathExists(dir)) {
      return absl::NotFoundError(absl::StrCat("image ", image.id, ": snapshot ", dir, " is missing"));
    }
    dirs.push_back(std::move(dir));
  }
  return dirs;
}

std::optional<std::string> ImageStore::BlobFile(const std::string& digest) const {
  if (!DigestHex(digest, "blob digest").ok()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  std::string path = BlobPath(digest);
  if (!PathExists(path)) return std::nullopt;
  return path;
}

absl::StatusOr<FsUsage> ImageStore::Usage() const {
  std::lock_guard<std::mutex> lock(mu_);
  FsUsage usage;
  std::set<std::pair<dev_t, ino_t>> seen;
  RETURN_IF_ERROR(AddUsage(AT_FDCWD, root_.c_str(), root_, seen, usage));
  return usage;
}

}  // namespace berth::image
