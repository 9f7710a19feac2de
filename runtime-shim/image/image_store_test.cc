#include "runtime-shim/image/image_store.h"

#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using testing::Compression;
using testing::Dir;
using testing::File;
using testing::TestImage;
using testing::TestLayer;

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    root_ = tmp_ + "/images";
    absl::StatusOr<std::unique_ptr<ImageStore>> store = ImageStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);

    absl::StatusOr<TestLayer> base = testing::MakeLayer(
        {Dir("bin"), File("bin/sh", "#!shell", 0755), Dir("etc"), File("etc/passwd", "root:x:0:0::/:/bin/sh\n")});
    ASSERT_TRUE(base.ok()) << base.status();
    base_ = *base;
    absl::StatusOr<TestLayer> app =
        testing::MakeLayer({Dir("app"), File("app/run", "run", 0755), File("etc/.wh.passwd", "")}, Compression::kZstd);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *app;
  }
  void TearDown() override {
    store_.reset();
    ASSERT_TRUE(RemoveAll(tmp_).ok());
  }

  std::string Write(const std::string& name, const absl::StatusOr<std::string>& bytes) {
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    std::string path = tmp_ + "/" + name;
    EXPECT_TRUE(testing::WriteBytes(path, bytes.value_or("")).ok());
    return path;
  }

  size_t Count(const std::string& sub) {
    absl::StatusOr<std::vector<std::string>> names = ListDir(root_ + "/" + sub);
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? names->size() : 0;
  }

  TestImage AppImage() {
    TestImage image;
    image.layers = {base_, app_};
    image.cmd = {"/app/run"};
    image.user = "1000";
    image.labels = {{"role", "app"}};
    return image;
  }

  std::string tmp_, root_;
  std::unique_ptr<ImageStore> store_;
  TestLayer base_, app_;
};

TEST_F(ImageStoreTest, ImportsOciLayoutAndResolvesEveryForm) {
  std::string archive = Write("app.tar", testing::MakeOciArchive({{"example.com/team/app:v1", AppImage()}},
                                                                 Compression::kGzip));
  absl::StatusOr<std::vector<Image>> imported = store_->Import(archive);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->size(), 1u);
  const Image& image = (*imported)[0];
  EXPECT_EQ(image.id, Sha256Digest(testing::ConfigJson(AppImage())));
  EXPECT_THAT(image.repo_tags, ElementsAre("example.com/team/app:v1"));
  ASSERT_EQ(image.repo_digests.size(), 1u);
  EXPECT_EQ(image.repo_digests[0].rfind("example.com/team/app@sha256:", 0), 0u);
  EXPECT_THAT(image.cmd, ElementsAre("/app/run"));
  EXPECT_EQ(image.user, "1000");
  EXPECT_EQ(image.labels.at("role"), "app");
  EXPECT_EQ(image.size, base_.blob.size() + app_.blob.size());
  ASSERT_EQ(image.chain_ids.size(), 2u);
  EXPECT_EQ(image.chain_ids[0], base_.diff_id);

  std::string hex = image.id.substr(7);
  for (const std::string& ref : {std::string("example.com/team/app:v1"), image.id, hex, hex.substr(0, 3),
                                 image.repo_digests[0]}) {
    absl::StatusOr<Image> found = store_->Resolve(ref);
    ASSERT_TRUE(found.ok()) << ref << ": " << found.status();
    EXPECT_EQ(found->id, image.id) << ref;
  }
  for (const std::string& ref : std::vector<std::string>{"example.com/team/app:v2", "ab", "busybox", "sha256:" + std::string(64, '0')}) {
    absl::StatusOr<Image> found = store_->Resolve(ref);
    EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound) << ref;
  }

  absl::StatusOr<std::vector<std::string>> dirs = store_->LayerDirs(image);
  ASSERT_TRUE(dirs.ok()) << dirs.status();
  ASSERT_EQ(dirs->size(), 2u);
  // Top-most first: the app layer holds /app and the whiteout for /etc/passwd.
  EXPECT_TRUE(PathExists((*dirs)[0] + "/app/run"));
  struct stat st;
  ASSERT_EQ(::lstat(((*dirs)[0] + "/etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_TRUE(PathExists((*dirs)[1] + "/bin/sh"));

  // The record survives a reopen.
  store_.reset();
  absl::StatusOr<std::unique_ptr<ImageStore>> reopened = ImageStore::Open(root_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = std::move(*reopened);
  absl::StatusOr<Image> again = store_->Resolve("example.com/team/app:v1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->cmd, image.cmd);
  EXPECT_EQ(again->chain_ids, image.chain_ids);
}

TEST_F(ImageStoreTest, ImportsDockerArchiveWithNormalizedNames) {
  absl::StatusOr<TestLayer> plain = testing::MakeLayer({File("hello", "world")}, Compression::kNone);
  ASSERT_TRUE(plain.ok());
  TestImage image;
  image.layers = {*plain};
  std::string archive = Write("docker.tar", testing::MakeDockerArchive({{{"busybox", "foo/bar:1", "localhost/x:1"}, image}}));
  absl::StatusOr<std::vector<Image>> imported = store_->Import(archive);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->size(), 1u);
  EXPECT_THAT((*imported)[0].repo_tags,
              ElementsAre("docker.io/library/busybox:latest", "docker.io/foo/bar:1", "localhost/x:1"));
  for (const char* ref : {"busybox", "busybox:latest", "docker.io/library/busybox", "foo/bar:1", "localhost/x:1"}) {
    absl::StatusOr<Image> found = store_->Resolve(ref);
    ASSERT_TRUE(found.ok()) << ref << ": " << found.status();
    EXPECT_EQ(found->id, (*imported)[0].id);
  }
  absl::StatusOr<std::vector<std::string>> dirs = store_->LayerDirs((*imported)[0]);
  ASSERT_TRUE(dirs.ok());
  absl::StatusOr<std::string> content = ReadFile((*dirs)[0] + "/hello");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "world");
}

TEST_F(ImageStoreTest, SharesSnapshotsBetweenImages) {
  TestImage base_only;
  base_only.layers = {base_};
  ASSERT_TRUE(store_->Import(Write("base.tar", testing::MakeOciArchive({{"base:1", base_only}}))).ok());
  ASSERT_EQ(Count("snapshots"), 1u);
  std::string snapshot_fs = root_ + "/snapshots/" + base_.diff_id.substr(7) + "/fs";
  // A marker that a second unpack of the same snapshot would wipe.
  ASSERT_TRUE(testing::WriteBytes(snapshot_fs + "/marker", "kept").ok());

  absl::StatusOr<std::vector<Image>> app = store_->Import(Write("app.tar", testing::MakeOciArchive({{"app:1", AppImage()}})));
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(Count("snapshots"), 2u);
  EXPECT_TRUE(PathExists(snapshot_fs + "/marker"));
  absl::StatusOr<std::vector<std::string>> dirs = store_->LayerDirs((*app)[0]);
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ((*dirs)[1], snapshot_fs);

  // Removing one image keeps what the other still uses.
  ASSERT_TRUE(store_->Remove("app:1").ok());
  EXPECT_EQ(Count("snapshots"), 1u);
  EXPECT_TRUE(PathExists(snapshot_fs + "/marker"));
  EXPECT_EQ(store_->Remove("app:1").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Remove("base:1").ok());
  EXPECT_EQ(Count("snapshots"), 0u);
  EXPECT_EQ(Count("blobs/sha256"), 0u);
  EXPECT_EQ(Count("images"), 0u);
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(ImageStoreTest, NameMovesToTheNewImage) {
  TestImage first;
  first.layers = {base_};
  first.cmd = {"first"};
  TestImage second = first;
  second.cmd = {"second"};
  absl::StatusOr<std::vector<Image>> a =
      store_->Import(Write("a.tar", testing::MakeDockerArchive({{{"app:latest", "app:old"}, first}})));
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::vector<Image>> b = store_->Import(Write("b.tar", testing::MakeDockerArchive({{{"app"}, second}})));
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<Image> latest = store_->Resolve("app");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->id, (*b)[0].id);
  absl::StatusOr<Image> old = store_->Resolve((*a)[0].id);
  ASSERT_TRUE(old.ok());
  EXPECT_THAT(old->repo_tags, ElementsAre("docker.io/library/app:old"));
  EXPECT_EQ(store_->List().size(), 2u);
}

TEST_F(ImageStoreTest, RefusesDigestMismatches) {
  TestImage lying;
  lying.layers = {base_};
  lying.diff_ids_override = {app_.diff_id};
  absl::StatusOr<std::vector<Image>> result = store_->Import(Write("lie.tar", testing::MakeOciArchive({{"lie:1", lying}})));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_NE(result.status().message().find("diff id"), std::string::npos) << result.status();

  // A blob whose content does not match its name.
  std::string fake = "blobs/sha256/" + std::string(64, 'a');
  result = store_->Import(Write("bad.tar", testing::MakeTar({File("index.json", R"({"manifests":[]})"), File(fake, "x")})));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_NE(result.status().message().find("digest mismatch"), std::string::npos) << result.status();

  EXPECT_TRUE(store_->List().empty());
  EXPECT_EQ(Count("snapshots"), 0u);
  EXPECT_EQ(Count("blobs/sha256"), 0u);
  EXPECT_EQ(Count("tmp"), 0u);
}

TEST_F(ImageStoreTest, RefusedLayerLeavesNothingBehind) {
  absl::StatusOr<TestLayer> evil = testing::MakeLayer({File("../../evil", "x")});
  ASSERT_TRUE(evil.ok());
  TestImage image;
  image.layers = {*evil};
  absl::StatusOr<std::vector<Image>> result = store_->Import(Write("evil.tar", testing::MakeOciArchive({{"evil:1", image}})));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_NE(result.status().message().find("../../evil"), std::string::npos) << result.status();
  EXPECT_EQ(Count("snapshots"), 0u);
  EXPECT_FALSE(PathExists(tmp_ + "/evil"));
  EXPECT_FALSE(PathExists(root_ + "/evil"));
}

TEST_F(ImageStoreTest, OpenCleansCrashLeftovers) {
  TestImage base_only;
  base_only.layers = {base_};
  ASSERT_TRUE(store_->Import(Write("base.tar", testing::MakeOciArchive({{"base:1", base_only}}))).ok());
  store_.reset();
  std::string orphan = std::string(64, 'b');
  ASSERT_TRUE(MkdirAll(root_ + "/snapshots/" + orphan + ".tmp-123/fs/bin").ok());
  ASSERT_TRUE(MkdirAll(root_ + "/snapshots/" + orphan + "/fs").ok());  // complete but unreferenced
  ASSERT_TRUE(MkdirAll(root_ + "/tmp/import-abc").ok());
  ASSERT_TRUE(testing::WriteBytes(root_ + "/blobs/sha256/" + orphan, "orphan").ok());
  ASSERT_TRUE(testing::WriteBytes(root_ + "/blobs/sha256/" + orphan + ".tmp-9", "half").ok());
  ASSERT_TRUE(testing::WriteBytes(root_ + "/images/" + orphan + ".json.tmp-7", "{").ok());

  absl::StatusOr<std::unique_ptr<ImageStore>> reopened = ImageStore::Open(root_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = std::move(*reopened);
  EXPECT_EQ(Count("snapshots"), 1u);
  EXPECT_EQ(Count("tmp"), 0u);
  EXPECT_EQ(Count("images"), 1u);
  EXPECT_EQ(Count("blobs/sha256"), 3u);  // manifest, config, layer
  EXPECT_TRUE(store_->Resolve("base:1").ok());
}

TEST_F(ImageStoreTest, UsageCountsTheStore) {
  absl::StatusOr<FsUsage> empty = store_->Usage();
  ASSERT_TRUE(empty.ok()) << empty.status();
  ASSERT_TRUE(store_->Import(Write("app.tar", testing::MakeOciArchive({{"app:1", AppImage()}}))).ok());
  absl::StatusOr<FsUsage> used = store_->Usage();
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_GT(used->used_bytes, empty->used_bytes);
  EXPECT_GE(used->inodes_used, empty->inodes_used + 10);
}

TEST_F(ImageStoreTest, ReimportIsIdempotent) {
  std::string archive = Write("app.tar", testing::MakeOciArchive({{"app:1", AppImage()}}));
  absl::StatusOr<std::vector<Image>> first = store_->Import(archive);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::vector<Image>> second = store_->Import(archive);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)[0].id, (*first)[0].id);
  EXPECT_EQ((*second)[0].repo_tags, (*first)[0].repo_tags);
  EXPECT_EQ((*second)[0].repo_digests, (*first)[0].repo_digests);
  EXPECT_EQ(store_->List().size(), 1u);
  EXPECT_EQ(Count("snapshots"), 2u);
  EXPECT_EQ(Count("tmp"), 0u);
}

TEST_F(ImageStoreTest, LayerDirsMountAsOverlay) {
  absl::StatusOr<std::vector<Image>> app = store_->Import(Write("app.tar", testing::MakeOciArchive({{"app:1", AppImage()}})));
  ASSERT_TRUE(app.ok()) << app.status();
  absl::StatusOr<std::vector<std::string>> dirs = store_->LayerDirs((*app)[0]);
  ASSERT_TRUE(dirs.ok());
  std::string merged = tmp_ + "/merged";
  ASSERT_TRUE(MkdirAll(merged).ok());
  std::string options = "lowerdir=" + absl::StrJoin(*dirs, ":");
  ASSERT_EQ(::mount("overlay", merged.c_str(), "overlay", MS_RDONLY, options.c_str()), 0) << strerror(errno);
  bool app_run = PathExists(merged + "/app/run");
  bool base_sh = PathExists(merged + "/bin/sh");
  bool passwd = PathExists(merged + "/etc/passwd");
  ASSERT_EQ(::umount2(merged.c_str(), MNT_DETACH), 0);
  EXPECT_TRUE(app_run);
  EXPECT_TRUE(base_sh);
  EXPECT_FALSE(passwd);  // hidden by the app layer's whiteout
}

TEST_F(ImageStoreTest, ImportsTheBusyboxImageFromTheScript) {
  std::string script = std::string(BERTH_SOURCE_DIR) + "/hack/build-busybox-image.sh";
  if (!PathExists(script) || !PathExists("/bin/busybox")) GTEST_SKIP() << "needs " << script << " and busybox-static";
  std::string out = tmp_ + "/built";
  ASSERT_EQ(::system(absl::StrCat("bash ", script, " ", out, " >/dev/null").c_str()), 0);
  absl::StatusOr<std::vector<Image>> busybox = store_->Import(out + "/busybox.tar");
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  absl::StatusOr<std::vector<Image>> pause = store_->Import(out + "/pause.tar");
  ASSERT_TRUE(pause.ok()) << pause.status();
  EXPECT_EQ(Count("snapshots"), 1u);  // one shared layer

  absl::StatusOr<Image> image = store_->Resolve("busybox");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->cmd, ElementsAre("sh"));
  EXPECT_THAT(image->env, ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  absl::StatusOr<Image> pause_image = store_->Resolve("localhost/berth/pause:1.0");
  ASSERT_TRUE(pause_image.ok()) << pause_image.status();
  EXPECT_THAT(pause_image->entrypoint, ElementsAre("/bin/sleep", "2147483647"));
  EXPECT_THAT(pause_image->repo_digests, UnorderedElementsAre(::testing::StartsWith("localhost/berth/pause@sha256:")));

  absl::StatusOr<std::vector<std::string>> dirs = store_->LayerDirs(*image);
  ASSERT_TRUE(dirs.ok());
  struct stat st;
  ASSERT_EQ(::lstat(((*dirs)[0] + "/bin/busybox").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ASSERT_EQ(::lstat(((*dirs)[0] + "/bin/sh").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::lstat(((*dirs)[0] + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

}  // namespace
}  // namespace berth::image
