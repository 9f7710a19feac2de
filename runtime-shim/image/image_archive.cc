#include "runtime-shim/image/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/reference.h"

namespace berth::image {
namespace {

using json = nlohmann::json;

constexpr absl::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr absl::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr absl::string_view kImageNameAnnotation = "io.containerd.image.name";
constexpr absl::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

struct StagedFile {
  std::string file;
  std::string digest;
  int64_t size = 0;
};

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

class Staging {
 public:
  explicit Staging(std::string dir) : dir_(std::move(dir)) {}

  // Copies the current entry's data into a staged file while hashing it.
  absl::Status Add(archive* a, const std::string& path) {
    std::string file = absl::StrCat(dir_, "/", files_.size());
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError(absl::StrCat("create ", file));
    Sha256 hasher;
    int64_t size = 0;
    char buf[128 * 1024];
    absl::Status status;
    while (status.ok()) {
      la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
      if (n < 0) {
        status = absl::DataLossError(absl::StrCat("read ", path, ": ", archive_error_string(a)));
        break;
      }
      if (n == 0) break;
      hasher.Update(buf, static_cast<size_t>(n));
      size += n;
      for (la_ssize_t done = 0; done < n;) {
        ssize_t w = ::write(fd, buf + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          status = ErrnoError(absl::StrCat("write ", file));
          break;
        }
        done += w;
      }
    }
    ::close(fd);
    RETURN_IF_ERROR(status);
    files_[path] = StagedFile{file, hasher.Finish(), size};
    return absl::OkStatus();
  }

  const StagedFile* Find(const std::string& path) const {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, StagedFile>& files() const { return files_; }

 private:
  std::string dir_;
  std::map<std::string, StagedFile> files_;
};

std::string BlobPath(absl::string_view hex) { return absl::StrCat("blobs/sha256/", hex); }

absl::StatusOr<json> ParseJsonFile(const StagedFile& file, absl::string_view name) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(file.file));
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON"));
  return parsed;
}

std::string StringField(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

class ArchiveResolver {
 public:
  ArchiveResolver(const Staging& staging, std::string architecture)
      : staging_(staging), architecture_(std::move(architecture)) {}

  absl::StatusOr<ImageArchive> Resolve() {
    ImageArchive out;
    const StagedFile* index = staging_.Find("index.json");
    const StagedFile* docker = staging_.Find("manifest.json");
    if (index == nullptr && docker == nullptr) {
      return absl::InvalidArgumentError("neither index.json (OCI layout) nor manifest.json (docker-archive) found");
    }
    if (index != nullptr) {
      ASSIGN_OR_RETURN(json doc, ParseJsonFile(*index, "index.json"));
      RETURN_IF_ERROR(ResolveIndex(doc, "index.json", /*top=*/true, {}, out));
    }
    if (docker != nullptr) RETURN_IF_ERROR(ResolveDockerManifest(*docker, index != nullptr, out));
    if (out.images.empty()) return absl::InvalidArgumentError("archive holds no images");
    out.blob_files = std::move(blob_files_);
    return out;
  }

 private:
  // A blob by digest: the staged blobs/sha256/<hex>, size-checked when given.
  absl::StatusOr<BlobDescriptor> Blob(const json& descriptor, absl::string_view field) {
    std::string digest = StringField(descriptor, "digest");
    ASSIGN_OR_RETURN(std::string hex, DigestHex(digest, absl::StrCat(field, ".digest")));
    const StagedFile* file = staging_.Find(BlobPath(hex));
    if (file == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": blob ", digest, " is not in the archive"));
    }
    if (descriptor.contains("size") && descriptor["size"].is_number_integer() &&
        descriptor["size"].get<int64_t>() != file->size) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": blob ", digest, " has size ", file->size,
                                                     ", descriptor says ", descriptor["size"].dump()));
    }
    blob_files_[digest] = file->file;
    return BlobDescriptor{digest, file->size};
  }

  absl::Status NamesFromAnnotations(const json& descriptor, std::vector<std::string>& names) {
    if (!descriptor.contains("annotations")) return absl::OkStatus();
    const json& annotations = descriptor["annotations"];
    std::string full = StringField(annotations, kImageNameAnnotation.data());
    std::string ref = StringField(annotations, kRefNameAnnotation.data());
    // ref.name alone is often just a tag, which names nothing without a repository.
    if (full.empty() && (ref.find('/') != std::string::npos || ref.find(':') != std::string::npos)) {
      full = ref;
    }
    if (full.empty()) return absl::OkStatus();
    absl::StatusOr<std::string> name = NormalizeName(full);
    if (!name.ok()) return Annotate(name.status(), "index.json annotations");
    names.push_back(*name);
    return absl::OkStatus();
  }

  bool PlatformMatches(const json& descriptor) {
    if (!descriptor.contains("platform")) return false;
    const json& platform = descriptor["platform"];
    return StringField(platform, "os") == "linux" && StringField(platform, "architecture") == architecture_;
  }

  absl::Status ResolveIndex(const json& doc, const std::string& where, bool top,
                            std::vector<std::string> inherited_names, ImageArchive& out) {
    if (!doc.is_object() || !doc.contains("manifests") || !doc["manifests"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": manifests: missing or not a list"));
    }
    const json& manifests = doc["manifests"];
    bool picked_platform = false;
    for (size_t i = 0; i < manifests.size(); ++i) {
      const json& descriptor = manifests[i];
      std::string field = absl::StrCat(where, ": manifests[", i, "]");
      std::vector<std::string> names = inherited_names;
      if (top) RETURN_IF_ERROR(NamesFromAnnotations(descriptor, names));
      std::string media_type = StringField(descriptor, "mediaType");
      ASSIGN_OR_RETURN(BlobDescriptor blob, Blob(descriptor, field));
      ASSIGN_OR_RETURN(json child, ParseJsonFile(*staging_.Find(BlobPath(blob.digest.substr(7))), blob.digest));
      if (media_type.empty()) media_type = StringField(child, "mediaType");
      if (media_type == kOciIndex || media_type == kDockerManifestList ||
          (child.is_object() && child.contains("manifests"))) {
        RETURN_IF_ERROR(ResolveIndex(child, blob.digest, /*top=*/false, names, out));
        continue;
      }
      // Inside a multi-platform index, keep only this host's platform.
      if (!top) {
        if (picked_platform || !PlatformMatches(descriptor)) continue;
        picked_platform = true;
      }
      ArchiveImage image;
      image.names = std::move(names);
      image.manifest_digest = blob.digest;
      ASSIGN_OR_RETURN(image.config, Blob(child.value("config", json::object()), absl::StrCat(blob.digest, ": config")));
      if (!child.contains("layers") || !child["layers"].is_array()) {
        return absl::InvalidArgumentError(absl::StrCat("manifest ", blob.digest, ": layers: missing or not a list"));
      }
      for (size_t l = 0; l < child["layers"].size(); ++l) {
        ASSIGN_OR_RETURN(BlobDescriptor layer,
                         Blob(child["layers"][l], absl::StrCat("manifest ", blob.digest, ": layers[", l, "]")));
        image.layers.push_back(layer);
      }
      out.images.push_back(std::move(image));
    }
    if (!top && !picked_platform) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no manifest for platform linux/", architecture_));
    }
    return absl::OkStatus();
  }

  // A file named by a path in manifest.json; "<64 hex>.json" and
  // "blobs/sha256/<hex>" names must match the content's digest.
  absl::StatusOr<BlobDescriptor> DockerFile(const json& path_value, const std::string& field) {
    if (!path_value.is_string()) return absl::InvalidArgumentError(absl::StrCat(field, ": not a string"));
    std::string path = CleanPath(path_value.get<std::string>());
    const StagedFile* file = staging_.Find(path);
    if (file == nullptr) return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is not in the archive"));
    blob_files_[file->digest] = file->file;
    return BlobDescriptor{file->digest, file->size};
  }

  absl::Status ResolveDockerManifest(const StagedFile& file, bool have_oci, ImageArchive& out) {
    ASSIGN_OR_RETURN(json doc, ParseJsonFile(file, "manifest.json"));
    if (!doc.is_array()) return absl::InvalidArgumentError("manifest.json: not a list");
    for (size_t i = 0; i < doc.size(); ++i) {
      const json& entry = doc[i];
      std::string field = absl::StrCat("manifest.json[", i, "]");
      if (!entry.is_object()) return absl::InvalidArgumentError(absl::StrCat(field, ": not an object"));
      ASSIGN_OR_RETURN(BlobDescriptor config, DockerFile(entry.value("Config", json()), field + ".Config"));
      std::vector<std::string> names;
      if (entry.contains("RepoTags") && entry["RepoTags"].is_array()) {
        for (const json& tag : entry["RepoTags"]) {
          if (!tag.is_string()) continue;
          absl::StatusOr<std::string> name = NormalizeName(tag.get<std::string>());
          if (!name.ok()) return Annotate(name.status(), field + ".RepoTags");
          names.push_back(*name);
        }
      }
      // With an OCI index too, manifest.json only adds names.
      ArchiveImage* existing = nullptr;
      for (ArchiveImage& image : out.images) {
        if (image.config.digest == config.digest) existing = &image;
      }
      if (existing != nullptr) {
        for (std::string& name : names) existing->names.push_back(std::move(name));
        continue;
      }
      if (have_oci) continue;
      ArchiveImage image;
      image.names = std::move(names);
      image.config = config;
      if (!entry.contains("Layers") || !entry["Layers"].is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".Layers: missing or not a list"));
      }
      for (size_t l = 0; l < entry["Layers"].size(); ++l) {
        ASSIGN_OR_RETURN(BlobDescriptor layer, DockerFile(entry["Layers"][l], absl::StrCat(field, ".Layers[", l, "]")));
        image.layers.push_back(layer);
      }
      out.images.push_back(std::move(image));
    }
    return absl::OkStatus();
  }

  const Staging& staging_;
  std::string architecture_;
  std::map<std::string, std::string> blob_files_;
};

// Files named by their digest must hold content with that digest.
absl::Status VerifyNamedDigests(const Staging& staging) {
  for (const auto& [path, file] : staging.files()) {
    std::string hex;
    if (absl::StartsWith(path, "blobs/sha256/")) {
      hex = path.substr(13);
    } else if (path.size() == 69 && absl::EndsWith(path, ".json") && IsHex(path.substr(0, 64))) {
      hex = path.substr(0, 64);
    } else {
      continue;
    }
    if (file.digest != absl::StrCat("sha256:", hex)) {
      return absl::InvalidArgumentError(
          absl::StrCat("archive file ", path, ": digest mismatch, content is ", file.digest));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImageArchive> ReadImageArchive(const std::string& archive_path,
                                              const std::string& staging_dir,
                                              const std::string& architecture) {
  RETURN_IF_ERROR(MkdirAll(staging_dir, 0700));
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 128 * 1024) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("open image archive ", archive_path, ": ",
                                                   archive_error_string(a.get())));
  }
  Staging staging(staging_dir);
  while (true) {
    archive_entry* entry;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return absl::InvalidArgumentError(absl::StrCat("image archive ", archive_path, ": ",
                                                     archive_error_string(a.get())));
    }
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) continue;
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) continue;
    RETURN_IF_ERROR(Annotate(staging.Add(a.get(), CleanPath(name)), archive_path));
  }
  RETURN_IF_ERROR(Annotate(VerifyNamedDigests(staging), archive_path));
  ArchiveResolver resolver(staging, architecture);
  absl::StatusOr<ImageArchive> result = resolver.Resolve();
  if (!result.ok()) return Annotate(result.status(), absl::StrCat("image archive ", archive_path));
  return result;
}

std::string HostArchitecture() {
  utsname u;
  if (::uname(&u) != 0) return "amd64";
  absl::string_view m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (absl::StartsWith(m, "arm")) return "arm";
  if (m == "i686" || m == "i386") return "386";
  return std::string(m);
}

}  // namespace berth::image
