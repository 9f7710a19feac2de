#include "runtime-shim/image/image_builder.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/image_store.h"

namespace berth::image {
namespace {

class ImageBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-builder-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    ASSERT_TRUE(AtomicWriteFile(tmp_ + "/tool", "#!/bin/sh\necho built\n", 0750).ok());
    ASSERT_TRUE(AtomicWriteFile(tmp_ + "/libfake.so.1", std::string(200000, 'x'), 0644).ok());
    spec_.name = "localhost/berth/tool:v1";
    spec_.files = {{tmp_ + "/tool", "/usr/bin/tool"}, {tmp_ + "/libfake.so.1", "/usr/lib/x86_64-linux-gnu/libfake.so.1"}};
    spec_.symlinks = {{"/lib", "usr/lib"}};
    spec_.entrypoint = {"/usr/bin/tool", "--flag"};
  }
  void TearDown() override { (void)RemoveAll(tmp_); }

  std::string tmp_;
  ImageBuildSpec spec_;
};

TEST_F(ImageBuilderTest, TheStoreImportsItWithNameEntrypointAndFiles) {
  auto id = BuildImageArchive(spec_, tmp_ + "/tool.tar");
  ASSERT_TRUE(id.ok()) << id.status();
  auto store = ImageStore::Open(tmp_ + "/store");
  ASSERT_TRUE(store.ok()) << store.status();
  auto imported = (*store)->Import(tmp_ + "/tool.tar");
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->size(), 1u);
  const Image& image = (*imported)[0];
  EXPECT_EQ(image.id, *id);
  ASSERT_EQ(image.repo_tags.size(), 1u);
  EXPECT_EQ(image.repo_tags[0], "localhost/berth/tool:v1");
  EXPECT_EQ(image.entrypoint, spec_.entrypoint);
  auto dirs = (*store)->LayerDirs(image);
  ASSERT_TRUE(dirs.ok()) << dirs.status();
  ASSERT_EQ(dirs->size(), 1u);
  const std::string& fs = (*dirs)[0];
  EXPECT_EQ(ReadFile(fs + "/usr/bin/tool").value_or(""), "#!/bin/sh\necho built\n");
  struct stat st{};
  ASSERT_EQ(stat((fs + "/usr/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(ReadFile(fs + "/lib/x86_64-linux-gnu/libfake.so.1").value_or("").size(), 200000u);
  char target[64] = {};
  ASSERT_GT(readlink((fs + "/lib").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "usr/lib");
}

TEST_F(ImageBuilderTest, SameFilesSameImageId) {
  auto first = BuildImageArchive(spec_, tmp_ + "/a.tar");
  auto second = BuildImageArchive(spec_, tmp_ + "/b.tar");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(ReadFile(tmp_ + "/a.tar").value_or("a"), ReadFile(tmp_ + "/b.tar").value_or("b"));
}

TEST_F(ImageBuilderTest, BadInputIsRefusedAndLeavesNothing) {
  ImageBuildSpec missing = spec_;
  missing.files.push_back({tmp_ + "/nope", "/usr/bin/nope"});
  auto no_file = BuildImageArchive(missing, tmp_ + "/out.tar");
  EXPECT_EQ(no_file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(no_file.status().message(), tmp_ + "/nope")) << no_file.status();
  ImageBuildSpec relative = spec_;
  relative.files[0].image_path = "usr/bin/tool";
  auto rel = BuildImageArchive(relative, tmp_ + "/out.tar");
  EXPECT_EQ(rel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(rel.status().message(), "usr/bin/tool")) << rel.status();
  ImageBuildSpec dotdot = spec_;
  dotdot.files[0].image_path = "/usr/../../etc/passwd";
  EXPECT_EQ(BuildImageArchive(dotdot, tmp_ + "/out.tar").status().code(), absl::StatusCode::kInvalidArgument);
  ImageBuildSpec no_entrypoint = spec_;
  no_entrypoint.entrypoint.clear();
  EXPECT_FALSE(BuildImageArchive(no_entrypoint, tmp_ + "/out.tar").ok());
  EXPECT_FALSE(PathExists(tmp_ + "/out.tar"));
  EXPECT_FALSE(PathExists(tmp_ + "/out.tar.tmp"));
  EXPECT_FALSE(PathExists(tmp_ + "/out.tar.build"));
}

}  // namespace
}  // namespace berth::image
