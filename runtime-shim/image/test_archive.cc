#include "runtime-shim/image/test_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/digest.h"

namespace berth::image::testing {
namespace {

using json = nlohmann::json;

la_ssize_t AppendToString(archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

std::string Hex(const std::string& digest) { return digest.substr(7); }

}  // namespace

TarEntry File(std::string path, std::string content, unsigned mode) {
  TarEntry e;
  e.path = std::move(path);
  e.content = std::move(content);
  e.mode = mode;
  return e;
}

TarEntry Dir(std::string path, unsigned mode) {
  TarEntry e;
  e.path = std::move(path);
  e.type = TarEntry::Type::kDir;
  e.mode = mode;
  return e;
}

TarEntry Symlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = TarEntry::Type::kSymlink;
  e.link = std::move(target);
  e.mode = 0777;
  return e;
}

TarEntry Hardlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = TarEntry::Type::kHardlink;
  e.link = std::move(target);
  return e;
}

absl::StatusOr<std::string> MakeTar(const std::vector<TarEntry>& entries, Compression compression) {
  std::string out;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(a.get());
  if (compression == Compression::kGzip) archive_write_add_filter_gzip(a.get());
  if (compression == Compression::kZstd) archive_write_add_filter_zstd(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return absl::InternalError(archive_error_string(a.get()));
  }
  for (const TarEntry& e : entries) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.path.c_str());
    archive_entry_set_uid(entry.get(), e.uid);
    archive_entry_set_gid(entry.get(), e.gid);
    archive_entry_set_mtime(entry.get(), e.mtime, 0);
    archive_entry_set_perm(entry.get(), e.mode);
    switch (e.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
        break;
      case TarEntry::Type::kDir:
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_symlink(entry.get(), e.link.c_str());
        break;
      case TarEntry::Type::kHardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_hardlink(entry.get(), e.link.c_str());
        archive_entry_set_size(entry.get(), 0);
        break;
      case TarEntry::Type::kCharDev:
        archive_entry_set_filetype(entry.get(), AE_IFCHR);
        archive_entry_set_rdevmajor(entry.get(), e.dev_major);
        archive_entry_set_rdevminor(entry.get(), e.dev_minor);
        break;
      case TarEntry::Type::kFifo:
        archive_entry_set_filetype(entry.get(), AE_IFIFO);
        break;
    }
    for (const auto& [name, value] : e.xattrs) {
      archive_entry_xattr_add_entry(entry.get(), name.c_str(), value.data(), value.size());
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("write header ", e.path, ": ", archive_error_string(a.get())));
    }
    if (e.type == TarEntry::Type::kFile && !e.content.empty() &&
        archive_write_data(a.get(), e.content.data(), e.content.size()) < 0) {
      return absl::InternalError(archive_error_string(a.get()));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return absl::InternalError(archive_error_string(a.get()));
  return out;
}

absl::StatusOr<TestLayer> MakeLayer(const std::vector<TarEntry>& entries, Compression compression) {
  absl::StatusOr<std::string> plain = MakeTar(entries, Compression::kNone);
  if (!plain.ok()) return plain.status();
  TestLayer layer;
  layer.diff_id = Sha256Digest(*plain);
  if (compression == Compression::kNone) {
    layer.blob = *plain;
    return layer;
  }
  absl::StatusOr<std::string> compressed = MakeTar(entries, compression);
  if (!compressed.ok()) return compressed.status();
  layer.blob = *compressed;
  return layer;
}

std::string ConfigJson(const TestImage& image) {
  json diff_ids = json::array();
  if (!image.diff_ids_override.empty()) {
    diff_ids = image.diff_ids_override;
  } else {
    for (const TestLayer& l : image.layers) diff_ids.push_back(l.diff_id);
  }
  json config = {{"Cmd", image.cmd}, {"Env", {"PATH=/bin"}}};
  if (!image.user.empty()) config["User"] = image.user;
  if (!image.labels.empty()) config["Labels"] = image.labels;
  json doc = {{"architecture", "amd64"},
              {"os", "linux"},
              {"config", config},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  return doc.dump();
}

absl::StatusOr<std::string> MakeOciArchive(const std::vector<std::pair<std::string, TestImage>>& images,
                                           Compression outer) {
  std::map<std::string, std::string> blobs;  // path -> content
  json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
  for (const auto& [name, image] : images) {
    std::string config = ConfigJson(image);
    std::string config_digest = Sha256Digest(config);
    blobs["blobs/sha256/" + Hex(config_digest)] = config;
    json layers = json::array();
    for (const TestLayer& l : image.layers) {
      std::string digest = Sha256Digest(l.blob);
      blobs["blobs/sha256/" + Hex(digest)] = l.blob;
      layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                        {"digest", digest},
                        {"size", l.blob.size()}});
    }
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                 {"digest", config_digest},
                                 {"size", config.size()}}},
                     {"layers", layers}};
    std::string manifest_text = manifest.dump();
    std::string manifest_digest = Sha256Digest(manifest_text);
    blobs["blobs/sha256/" + Hex(manifest_digest)] = manifest_text;
    json descriptor = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                       {"digest", manifest_digest},
                       {"size", manifest_text.size()}};
    if (!name.empty()) {
      descriptor["annotations"] = {{"io.containerd.image.name", name},
                                   {"org.opencontainers.image.ref.name", "ignored-tag"}};
    }
    index["manifests"].push_back(descriptor);
  }
  std::vector<TarEntry> entries = {File("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"),
                                   File("index.json", index.dump())};
  for (const auto& [path, content] : blobs) entries.push_back(File(path, content));
  return MakeTar(entries, outer);
}

absl::StatusOr<std::string> MakeDockerArchive(
    const std::vector<std::pair<std::vector<std::string>, TestImage>>& images, Compression outer) {
  std::vector<TarEntry> entries;
  json manifest = json::array();
  int n = 0;
  for (const auto& [tags, image] : images) {
    std::string config = ConfigJson(image);
    std::string config_path = Hex(Sha256Digest(config)) + ".json";
    entries.push_back(File(config_path, config));
    json layers = json::array();
    for (const TestLayer& l : image.layers) {
      std::string path = absl::StrCat("layer", n++, "/layer.tar");
      entries.push_back(File(path, l.blob));
      layers.push_back(path);
    }
    manifest.push_back({{"Config", config_path}, {"RepoTags", tags}, {"Layers", layers}});
  }
  entries.push_back(File("manifest.json", manifest.dump()));
  return MakeTar(entries, outer);
}

absl::Status WriteBytes(const std::string& path, const std::string& data) {
  return AtomicWriteFile(path, data, 0644, /*durable=*/false);
}

}  // namespace berth::image::testing
