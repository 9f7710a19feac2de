#include "runtime-shim/image/registry/manifest.h"

#include <gtest/gtest.h>

namespace berth::image::registry {
namespace {

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

std::string Index(const std::string& media_type) {
  return R"({"schemaVersion":2,"mediaType":")" + media_type + R"(","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD1 + R"(","size":500,
     "platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD2 + R"(","size":501,
     "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD3 + R"(","size":502,
     "platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})";
}

TEST(ManifestTest, ParsesOciManifest) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 + R"(","size":10},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kD2 + R"(","size":20},
              {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" + kD3 + R"(","size":30}]})";
  absl::StatusOr<Manifest> m = ParseManifest(body, "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->is_index);
  EXPECT_EQ(m->config.digest, kD1);
  EXPECT_EQ(m->config.size, 10);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest, kD3);
  EXPECT_EQ(m->layers[1].size, 30);
}

TEST(ManifestTest, DockerManifestKindFromContentType) {
  std::string body = R"({"schemaVersion":2,
    "config":{"digest":")" + kD1 + R"(","size":10},"layers":[{"digest":")" + kD2 + R"(","size":20}]})";
  absl::StatusOr<Manifest> m = ParseManifest(body, std::string(kDockerManifest) + "; charset=utf-8");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->media_type, kDockerManifest);
  EXPECT_EQ(m->layers.size(), 1u);
}

TEST(ManifestTest, ParsesIndexAndManifestList) {
  for (const char* type : {kOciIndex, kDockerManifestList}) {
    absl::StatusOr<Manifest> m = ParseManifest(Index(type), "");
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(m->is_index);
    ASSERT_EQ(m->manifests.size(), 3u);
    EXPECT_EQ(m->manifests[1].platform.String(), "linux/arm64/v8");
  }
}

TEST(ManifestTest, SelectsPlatform) {
  absl::StatusOr<Manifest> m = ParseManifest(Index(kOciIndex), "");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(SelectPlatform(*m, Platform{"linux", "amd64", ""})->digest, kD1);
  EXPECT_EQ(SelectPlatform(*m, Platform{"linux", "arm64", "v8"})->digest, kD2);
  // An empty variant matches arm64's default v8.
  EXPECT_EQ(SelectPlatform(*m, Platform{"linux", "arm64", ""})->digest, kD2);
  EXPECT_EQ(SelectPlatform(*m, Platform{"linux", "arm", "v7"})->digest, kD3);
  absl::StatusOr<Descriptor> none = SelectPlatform(*m, Platform{"linux", "riscv64", ""});
  ASSERT_TRUE(absl::IsNotFound(none.status())) << none.status();
  EXPECT_NE(none.status().message().find("linux/riscv64"), std::string::npos) << none.status();
  EXPECT_NE(none.status().message().find("linux/amd64, linux/arm64/v8, linux/arm/v7"), std::string::npos)
      << none.status();
  EXPECT_TRUE(absl::IsNotFound(SelectPlatform(*m, Platform{"linux", "arm", "v6"}).status()));
}

TEST(ManifestTest, HostPlatformIsLinux) {
  Platform p = HostPlatform();
  EXPECT_EQ(p.os, "linux");
  EXPECT_FALSE(p.architecture.empty());
}

TEST(ManifestTest, RejectsBadInput) {
  EXPECT_TRUE(absl::IsInvalidArgument(ParseManifest("not json", "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseManifest("[]", "").status()));
  absl::Status bad_digest = ParseManifest(
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"md5:x","size":1},"layers":[]})",
      "").status();
  EXPECT_TRUE(absl::IsInvalidArgument(bad_digest)) << bad_digest;
  absl::Status no_size = ParseManifest(
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":")" + kD1 + R"("},"layers":[]})",
      "").status();
  EXPECT_TRUE(absl::IsInvalidArgument(no_size)) << no_size;
  EXPECT_NE(no_size.message().find("size"), std::string::npos);
  EXPECT_TRUE(absl::IsUnimplemented(ParseManifest(R"({"schemaVersion":1,"fsLayers":[]})", "").status()));
}

}  // namespace
}  // namespace berth::image::registry
