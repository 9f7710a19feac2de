#include "runtime-shim/image/reference.h"

#include "gtest/gtest.h"

namespace berth::image {
namespace {

TEST(ReferenceTest, NormalizesNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"foo/bar:1", "docker.io/foo/bar:1"},
      {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
      {"index.docker.io/library/busybox", "docker.io/library/busybox:latest"},
      {"localhost/x:1", "localhost/x:1"},
      {"host:5000/x", "host:5000/x:latest"},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"},
      {"localhost/berth/pause:1.0", "localhost/berth/pause:1.0"},
  };
  for (const auto& [in, want] : cases) {
    absl::StatusOr<std::string> got = NormalizeName(in);
    ASSERT_TRUE(got.ok()) << in << ": " << got.status();
    EXPECT_EQ(*got, want) << in;
  }
}

TEST(ReferenceTest, ParsesDigests) {
  std::string digest = "sha256:" + std::string(64, 'a');
  absl::StatusOr<Reference> ref = ParseReference("busybox@" + digest);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->repository, "docker.io/library/busybox");
  EXPECT_EQ(ref->digest, digest);
  EXPECT_EQ(ref->tag, "");
  EXPECT_EQ(ref->Name(), "docker.io/library/busybox@" + digest);
}

TEST(ReferenceTest, RejectsInvalid) {
  for (const char* bad : {"", "Busybox", "busybox:", "a//b", "busybox@sha256:12", ":tag", "x y"}) {
    absl::StatusOr<std::string> got = NormalizeName(bad);
    EXPECT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace berth::image
