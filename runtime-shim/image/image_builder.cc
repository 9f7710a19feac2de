#include "runtime-shim/image/image_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/digest.h"

namespace berth::image {
namespace {

using json = nlohmann::json;
using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;
using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

// Output of a tar writer: to a file, hashing what is written.
struct HashingFile {
  int fd = -1;
  Sha256 hash;
  int64_t size = 0;
  bool failed = false;
};

la_ssize_t WriteHashing(archive*, void* client, const void* buffer, size_t length) {
  auto* out = static_cast<HashingFile*>(client);
  const char* p = static_cast<const char*>(buffer);
  size_t left = length;
  while (left > 0) {
    ssize_t n = write(out->fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      out->failed = true;
      return -1;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  out->hash.Update(buffer, length);
  out->size += static_cast<int64_t>(length);
  return static_cast<la_ssize_t>(length);
}

std::string Arch() {
  utsname u{};
  uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

class TarWriter {
 public:
  absl::Status Open(const std::string& path) {
    out_.fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_.fd < 0) return ErrnoError("create " + path);
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open(a_.get(), &out_, nullptr, WriteHashing, nullptr) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("tar ", path, ": ", archive_error_string(a_.get())));
    }
    return absl::OkStatus();
  }
  ~TarWriter() {
    if (out_.fd >= 0) close(out_.fd);
  }

  absl::Status Dir(const std::string& path) { return Header(path, AE_IFDIR, 0755, 0, ""); }
  absl::Status Symlink(const std::string& path, const std::string& target) {
    return Header(path, AE_IFLNK, 0777, 0, target);
  }
  absl::Status Bytes(const std::string& path, const std::string& data) {
    RETURN_IF_ERROR(Header(path, AE_IFREG, 0644, static_cast<int64_t>(data.size()), ""));
    if (!data.empty() && archive_write_data(a_.get(), data.data(), data.size()) < 0) return Error(path);
    return absl::OkStatus();
  }
  // A host file's content, streamed; its mode's permission bits kept.
  absl::Status HostFile(const std::string& path, const std::string& host_path) {
    int fd = open(host_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open " + host_path);
    struct stat st{};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat(host_path, ": not a regular file"));
    }
    absl::Status status = Header(path, AE_IFREG, st.st_mode & 07777, st.st_size, "");
    char buffer[1 << 16];
    int64_t left = st.st_size;
    while (status.ok() && left > 0) {
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) {
        status = n < 0 ? ErrnoError("read " + host_path)
                       : absl::DataLossError(absl::StrCat(host_path, " shrank while being read"));
        break;
      }
      if (archive_write_data(a_.get(), buffer, static_cast<size_t>(n)) < 0) status = Error(path);
      left -= n;
    }
    close(fd);
    return status;
  }
  // Closes the archive; the digest and size of what was written.
  absl::StatusOr<std::pair<std::string, int64_t>> Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK || out_.failed) return Error("close");
    if (fsync(out_.fd) != 0) return ErrnoError("fsync");
    close(out_.fd);
    out_.fd = -1;
    return std::make_pair(out_.hash.Finish(), out_.size);
  }

 private:
  absl::Status Header(const std::string& path, unsigned type, unsigned mode, int64_t size, const std::string& link) {
    EntryPtr e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (type == AE_IFREG) archive_entry_set_size(e.get(), size);
    if (type == AE_IFLNK) archive_entry_set_symlink(e.get(), link.c_str());
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return Error(path);
    return absl::OkStatus();
  }
  absl::Status Error(const std::string& what) {
    return absl::InternalError(absl::StrCat("tar ", what, ": ",
                                            out_.failed ? strerror(errno) : archive_error_string(a_.get())));
  }

  ArchivePtr a_{archive_write_new(), archive_write_free};
  HashingFile out_;
};

std::string Hex(const std::string& digest) { return digest.substr(7); }

// "/usr/bin/x" -> "usr/bin/x"; every parent ("usr", "usr/bin") into `dirs`.
std::string TarPath(const std::string& image_path, std::set<std::string>& dirs) {
  std::string rel = image_path.substr(1);
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
    dirs.insert(rel.substr(0, slash));
  }
  return rel;
}

}  // namespace

absl::StatusOr<std::string> BuildImageArchive(const ImageBuildSpec& spec, const std::string& out_path) {
  if (spec.name.empty()) return absl::InvalidArgumentError("image build: name is empty");
  if (spec.entrypoint.empty()) return absl::InvalidArgumentError("image build: entrypoint is empty");
  std::set<std::string> dirs;
  std::map<std::string, std::string> files;     // tar path -> host path
  std::map<std::string, std::string> symlinks;  // tar path -> target
  for (const auto& f : spec.files) {
    if (!absl::StartsWith(f.image_path, "/") || absl::StrContains(f.image_path, "..")) {
      return absl::InvalidArgumentError(
          absl::StrCat("image build: image path \"", f.image_path, "\" must be absolute, without \"..\""));
    }
    if (!PathExists(f.host_path)) {
      return absl::NotFoundError(absl::StrCat("image build: host file ", f.host_path, " does not exist"));
    }
    files[TarPath(f.image_path, dirs)] = f.host_path;
  }
  for (const auto& [path, target] : spec.symlinks) {
    if (!absl::StartsWith(path, "/") || absl::StrContains(path, "..")) {
      return absl::InvalidArgumentError(absl::StrCat("image build: symlink path \"", path, "\" must be absolute"));
    }
    symlinks[TarPath(path, dirs)] = target;
  }
  for (const auto& [path, unused] : symlinks) dirs.erase(path);  // a symlinked dir is not also a dir

  std::string work = out_path + ".build";
  (void)RemoveAll(work);
  RETURN_IF_ERROR(MkdirAll(work + "/blobs/sha256"));
  auto cleanup = [&] { (void)RemoveAll(work); };

  // The layer: directories first (sorted, so parents before children), then files and links.
  TarWriter layer;
  absl::Status status = layer.Open(work + "/layer.tar");
  for (const auto& d : dirs) {
    if (status.ok()) status = layer.Dir(d);
  }
  std::map<std::string, std::pair<bool, std::string>> leaves;  // sorted: path -> (is file, source/target)
  for (const auto& [path, host] : files) leaves[path] = {true, host};
  for (const auto& [path, target] : symlinks) leaves[path] = {false, target};
  for (const auto& [path, leaf] : leaves) {
    if (!status.ok()) break;
    status = leaf.first ? layer.HostFile(path, leaf.second) : layer.Symlink(path, leaf.second);
  }
  absl::StatusOr<std::pair<std::string, int64_t>> layer_digest =
      status.ok() ? layer.Close() : absl::StatusOr<std::pair<std::string, int64_t>>(status);
  if (!layer_digest.ok()) {
    cleanup();
    return layer_digest.status();
  }
  const auto& [diff_id, layer_size] = *layer_digest;
  std::string layer_blob = work + "/blobs/sha256/" + Hex(diff_id);
  if (rename((work + "/layer.tar").c_str(), layer_blob.c_str()) != 0) {
    cleanup();
    return ErrnoError("rename layer");
  }

  json config = {{"architecture", Arch()},
                 {"os", "linux"},
                 {"created", "1970-01-01T00:00:00Z"},
                 {"config", {{"Entrypoint", spec.entrypoint}, {"Env", spec.env}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}};
  std::string config_text = config.dump();
  std::string config_digest = Sha256Digest(config_text);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", config_digest},
                               {"size", config_text.size()}}},
                   {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                {"digest", diff_id},
                                {"size", layer_size}}}}};
  std::string manifest_text = manifest.dump();
  std::string manifest_digest = Sha256Digest(manifest_text);
  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", manifest_digest},
                   {"size", manifest_text.size()},
                   {"annotations", {{"io.containerd.image.name", spec.name}}}}}}};

  // The archive: the OCI layout, the small blobs, then the layer streamed in.
  TarWriter out;
  status = out.Open(out_path + ".tmp");
  if (status.ok()) status = out.Dir("blobs");
  if (status.ok()) status = out.Dir("blobs/sha256");
  if (status.ok()) status = out.Bytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  if (status.ok()) status = out.Bytes("index.json", index.dump());
  if (status.ok()) status = out.Bytes("blobs/sha256/" + Hex(config_digest), config_text);
  if (status.ok()) status = out.Bytes("blobs/sha256/" + Hex(manifest_digest), manifest_text);
  if (status.ok()) status = out.HostFile("blobs/sha256/" + Hex(diff_id), layer_blob);
  absl::StatusOr<std::pair<std::string, int64_t>> closed =
      status.ok() ? out.Close() : absl::StatusOr<std::pair<std::string, int64_t>>(status);
  cleanup();
  if (!closed.ok()) {
    unlink((out_path + ".tmp").c_str());
    return closed.status();
  }
  if (rename((out_path + ".tmp").c_str(), out_path.c_str()) != 0) return ErrnoError("rename " + out_path);
  return config_digest;
}

}  // namespace berth::image
