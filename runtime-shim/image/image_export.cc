#include "runtime-shim/image/image_export.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/reference.h"

namespace berth::image {
namespace {

using json = nlohmann::json;

constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";

struct Blob {
  std::string digest;
  std::string file;
  int64_t size = 0;
};

class TarWriter {
 public:
  TarWriter() : a_(archive_write_new(), archive_write_free) {}

  absl::Status Open(const std::string& path) {
    archive_write_set_format_pax_restricted(a_.get());
    if (archive_write_open_filename(a_.get(), path.c_str()) != ARCHIVE_OK) return Error("open " + path);
    return absl::OkStatus();
  }

  absl::Status AddBytes(const std::string& name, const std::string& data) {
    RETURN_IF_ERROR(Header(name, static_cast<int64_t>(data.size())));
    if (!data.empty() && archive_write_data(a_.get(), data.data(), data.size()) < 0) return Error("write " + name);
    return absl::OkStatus();
  }

  // Streams a file in, checking it still has the size the caller saw.
  absl::Status AddFile(const std::string& name, const std::string& file, int64_t size) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError(absl::StrCat("open ", file, ": ", std::strerror(errno)));
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    RETURN_IF_ERROR(Header(name, size));
    std::vector<char> buf(1 << 20);
    int64_t total = 0;
    while (true) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::InternalError(absl::StrCat("read ", file, ": ", std::strerror(errno)));
      if (n == 0) break;
      total += n;
      if (total > size) break;
      if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) < 0) return Error("write " + name);
    }
    if (total != size) {
      return absl::DataLossError(absl::StrCat("blob ", file, " changed size while exporting (", size, " -> ", total, ")"));
    }
    return absl::OkStatus();
  }

  absl::Status Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return Error("close");
    return absl::OkStatus();
  }

 private:
  absl::Status Header(const std::string& name, int64_t size) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), size);
    archive_entry_set_mtime(entry.get(), 0, 0);
    if (archive_write_header(a_.get(), entry.get()) != ARCHIVE_OK) return Error("header " + name);
    return absl::OkStatus();
  }
  absl::Status Error(const std::string& what) {
    const char* msg = archive_error_string(a_.get());
    return absl::InternalError(absl::StrCat("export archive: ", what, ": ", msg ? msg : "libarchive error"));
  }
  std::unique_ptr<archive, int (*)(archive*)> a_;
};

absl::StatusOr<Blob> StoreBlob(const ImageStore& store, const std::string& digest, const std::string& image_id) {
  std::optional<std::string> file = store.BlobFile(digest);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("image ", image_id, ": blob ", digest, " is not in the store"));
  }
  struct stat st;
  if (::stat(file->c_str(), &st) != 0) return absl::InternalError(absl::StrCat("stat ", *file, ": ", std::strerror(errno)));
  return Blob{digest, *file, static_cast<int64_t>(st.st_size)};
}

}  // namespace

absl::Status ExportImages(const ImageStore& store, const std::vector<std::string>& refs, const std::string& out_path) {
  if (refs.empty()) return absl::InvalidArgumentError("export: no image reference given");
  std::vector<Blob> blobs;
  std::set<std::string> seen_blobs;
  auto add_blob = [&](const Blob& blob) {
    if (seen_blobs.insert(blob.digest).second) blobs.push_back(blob);
  };
  json manifests = json::array();
  std::set<std::string> seen_names;
  for (const std::string& ref : refs) {
    ASSIGN_OR_RETURN(ImageRecord record, store.Record(ref));
    const Image& image = record.image;
    // The image manifest: the one of its manifests whose config is this image.
    std::optional<Blob> manifest_blob;
    std::string media_type;
    for (const std::string& digest : record.manifest_digests) {
      absl::StatusOr<Blob> blob = StoreBlob(store, digest, image.id);
      if (!blob.ok()) continue;
      absl::StatusOr<std::string> text = ReadFile(blob->file);
      if (!text.ok()) continue;
      json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (!doc.is_object() || !doc.contains("config") || !doc["config"].is_object() ||
          doc["config"].value("digest", "") != image.id) {
        continue;
      }
      manifest_blob = *blob;
      media_type = doc.value("mediaType", kOciManifest);
      break;
    }
    if (!manifest_blob) {
      return absl::FailedPreconditionError(absl::StrCat(
          "export ", ref, ": image ", image.id, " has no image manifest in the store (imported from a docker-archive?)"));
    }
    add_blob(*manifest_blob);
    ASSIGN_OR_RETURN(Blob config, StoreBlob(store, image.id, image.id));
    add_blob(config);
    for (const std::string& layer : record.layer_digests) {
      ASSIGN_OR_RETURN(Blob blob, StoreBlob(store, layer, image.id));
      add_blob(blob);
    }
    // Names: the one asked for when `ref` is a name of the image, else all.
    std::vector<std::string> names;
    absl::StatusOr<std::string> asked = NormalizeName(ref);
    if (asked.ok() && std::find(image.repo_tags.begin(), image.repo_tags.end(), *asked) != image.repo_tags.end()) {
      names.push_back(*asked);
    } else {
      names = image.repo_tags;
    }
    json base = {{"mediaType", media_type}, {"digest", manifest_blob->digest}, {"size", manifest_blob->size}};
    if (names.empty() && seen_names.insert(manifest_blob->digest).second) manifests.push_back(base);
    for (const std::string& name : names) {
      if (!seen_names.insert(name).second) continue;
      json entry = base;
      absl::StatusOr<Reference> parsed = ParseReference(name);
      entry["annotations"] = {{"io.containerd.image.name", name},
                              {"org.opencontainers.image.ref.name", parsed.ok() ? parsed->tag : name}};
      manifests.push_back(entry);
    }
  }
  json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", manifests}};

  std::string tmp = absl::StrCat(out_path, ".tmp-", ::getpid());
  absl::Status written = [&]() -> absl::Status {
    TarWriter tar;
    RETURN_IF_ERROR(tar.Open(tmp));
    RETURN_IF_ERROR(tar.AddBytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    RETURN_IF_ERROR(tar.AddBytes("index.json", index.dump()));
    for (const Blob& blob : blobs) {
      RETURN_IF_ERROR(tar.AddFile(absl::StrCat("blobs/sha256/", blob.digest.substr(7)), blob.file, blob.size));
    }
    RETURN_IF_ERROR(tar.Close());
    if (::rename(tmp.c_str(), out_path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("rename ", tmp, " to ", out_path, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }();
  if (!written.ok()) ::unlink(tmp.c_str());
  return written;
}

}  // namespace berth::image
