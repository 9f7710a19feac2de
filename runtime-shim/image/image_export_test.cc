#include "runtime-shim/image/image_export.h"

#include <stdlib.h>

#include <string>

#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image {
namespace {

using ::testing::HasSubstr;
using testing::Compression;
using testing::Dir;
using testing::File;
using testing::TestImage;

class ImageExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-export-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(tmp_).ok()); }

  std::unique_ptr<ImageStore> OpenStore(const std::string& name) {
    absl::StatusOr<std::unique_ptr<ImageStore>> store = ImageStore::Open(tmp_ + "/" + name);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string tmp_;
};

TEST_F(ImageExportTest, ExportThenImportRoundTrips) {
  absl::StatusOr<testing::TestLayer> base = testing::MakeLayer({Dir("bin"), File("bin/sh", "#!shell", 0755)});
  absl::StatusOr<testing::TestLayer> app =
      testing::MakeLayer({Dir("app"), File("app/run", "run", 0755)}, Compression::kZstd);
  ASSERT_TRUE(base.ok() && app.ok());
  TestImage one;
  one.layers = {*base, *app};
  one.user = "1000";
  TestImage two;
  two.layers = {*base};
  two.cmd = {"/bin/sh", "-c", "true"};
  absl::StatusOr<std::string> archive =
      testing::MakeOciArchive({{"example.com/team/app:v1", one}, {"busybox:latest", two}});
  ASSERT_TRUE(archive.ok()) << archive.status();
  ASSERT_TRUE(testing::WriteBytes(tmp_ + "/in.tar", *archive).ok());

  std::unique_ptr<ImageStore> source = OpenStore("source");
  ASSERT_NE(source, nullptr);
  absl::StatusOr<std::vector<Image>> imported = source->Import(tmp_ + "/in.tar");
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->size(), 2u);

  std::string out = tmp_ + "/out.tar";
  ASSERT_TRUE(ExportImages(*source, {"example.com/team/app:v1", "busybox"}, out).ok());

  std::unique_ptr<ImageStore> fresh = OpenStore("fresh");
  ASSERT_NE(fresh, nullptr);
  absl::StatusOr<std::vector<Image>> again = fresh->Import(out);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), 2u);
  for (const char* ref : {"example.com/team/app:v1", "docker.io/library/busybox:latest"}) {
    absl::StatusOr<ImageRecord> want = source->Record(ref);
    absl::StatusOr<ImageRecord> got = fresh->Record(ref);
    ASSERT_TRUE(want.ok() && got.ok()) << ref;
    EXPECT_EQ(got->image.id, want->image.id) << ref;
    EXPECT_EQ(got->image.repo_tags, want->image.repo_tags) << ref;
    EXPECT_EQ(got->image.repo_digests, want->image.repo_digests) << ref;
    EXPECT_EQ(got->image.chain_ids, want->image.chain_ids) << ref;
    EXPECT_EQ(got->layer_digests, want->layer_digests) << ref;
    EXPECT_EQ(got->image.size, want->image.size) << ref;
    EXPECT_EQ(got->image.user, want->image.user) << ref;
  }
  // Shared base layer is written once and unpacked once.
  absl::StatusOr<std::vector<std::string>> snapshots = ListDir(tmp_ + "/fresh/snapshots");
  ASSERT_TRUE(snapshots.ok());
  EXPECT_EQ(snapshots->size(), 2u);
}

TEST_F(ImageExportTest, MissingReferenceIsNotFoundAndWritesNothing) {
  std::unique_ptr<ImageStore> store = OpenStore("store");
  ASSERT_NE(store, nullptr);
  std::string out = tmp_ + "/out.tar";
  absl::Status status = ExportImages(*store, {"example.com/nope:v9"}, out);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("example.com/nope:v9"));
  EXPECT_FALSE(PathExists(out));
  EXPECT_EQ(ExportImages(*store, {}, out).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::image
