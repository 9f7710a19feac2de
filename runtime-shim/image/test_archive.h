// Test helpers: write tar archives with libarchive, and wrap layers into
// OCI image layouts or docker-archives.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::image::testing {

struct TarEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kCharDev, kFifo };
  std::string path;
  Type type = Type::kFile;
  std::string content;  // file data
  std::string link;     // symlink or hard link target
  unsigned mode = 0644;
  unsigned uid = 0, gid = 0;
  unsigned dev_major = 0, dev_minor = 0;
  long mtime = 1700000000;
  std::map<std::string, std::string> xattrs;
};

TarEntry File(std::string path, std::string content, unsigned mode = 0644);
TarEntry Dir(std::string path, unsigned mode = 0755);
TarEntry Symlink(std::string path, std::string target);
TarEntry Hardlink(std::string path, std::string target);

enum class Compression { kNone, kGzip, kZstd };

// The archive's bytes (a pax tar).
absl::StatusOr<std::string> MakeTar(const std::vector<TarEntry>& entries,
                                    Compression compression = Compression::kNone);

struct TestLayer {
  std::string blob;     // the (compressed) layer as stored
  std::string diff_id;  // sha256 of the uncompressed tar
};

absl::StatusOr<TestLayer> MakeLayer(const std::vector<TarEntry>& entries,
                                    Compression compression = Compression::kGzip);

struct TestImage {
  std::vector<TestLayer> layers;
  std::vector<std::string> cmd = {"sh"};
  std::string user;
  std::map<std::string, std::string> labels;
  std::vector<std::string> diff_ids_override;  // when set, the config claims these
};

// The image's config JSON and digest.
std::string ConfigJson(const TestImage& image);

// An OCI image layout tar; `name` goes to the index annotations when not empty.
absl::StatusOr<std::string> MakeOciArchive(const std::vector<std::pair<std::string, TestImage>>& images,
                                           Compression outer = Compression::kNone);

// A docker-archive tar (`docker save` layout: <config hex>.json, <n>/layer.tar).
absl::StatusOr<std::string> MakeDockerArchive(
    const std::vector<std::pair<std::vector<std::string>, TestImage>>& images,
    Compression outer = Compression::kNone);

absl::Status WriteBytes(const std::string& path, const std::string& data);

}  // namespace berth::image::testing
