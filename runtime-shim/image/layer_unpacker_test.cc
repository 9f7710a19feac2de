#include "runtime-shim/image/layer_unpacker.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image {
namespace {

using testing::Compression;
using testing::Dir;
using testing::File;
using testing::Hardlink;
using testing::Symlink;
using testing::TarEntry;

class LayerUnpackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-unpack-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dest_ = root_ + "/snapshot/fs";
    outside_ = root_ + "/outside";
    ASSERT_TRUE(MkdirAll(outside_).ok());
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  absl::StatusOr<std::string> Unpack(const std::vector<TarEntry>& entries,
                                     Compression compression = Compression::kGzip) {
    absl::StatusOr<testing::TestLayer> layer = testing::MakeLayer(entries, compression);
    if (!layer.ok()) return layer.status();
    expected_diff_id_ = layer->diff_id;
    std::string blob = root_ + "/layer.blob";
    if (absl::Status s = testing::WriteBytes(blob, layer->blob); !s.ok()) return s;
    return UnpackLayer(blob, dest_);
  }

  // Refused with InvalidArgument naming `entry_name`, nothing left in dest or outside.
  void ExpectRefused(const std::vector<TarEntry>& entries, const std::string& entry_name) {
    absl::StatusOr<std::string> result = Unpack(entries);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
    EXPECT_NE(result.status().message().find(entry_name), std::string::npos) << result.status();
    EXPECT_FALSE(PathExists(dest_));
    absl::StatusOr<std::vector<std::string>> outside = ListDir(outside_);
    ASSERT_TRUE(outside.ok());
    EXPECT_TRUE(outside->empty());
    EXPECT_FALSE(PathExists(root_ + "/evil"));
  }

  std::string root_, dest_, outside_, expected_diff_id_;
};

TEST_F(LayerUnpackerTest, KeepsTypesModesOwnersTimesAndXattrs) {
  TarEntry file = File("etc/conf", "hello", 04750);
  file.uid = 1000;
  file.gid = 1001;
  file.mtime = 1234567890;
  file.xattrs["user.origin"] = "test";
  TarEntry dir = Dir("data", 01777);
  dir.mtime = 1111111111;
  TarEntry dev;  // 0:0, overlay's whiteout: the one device node a layer may hold
  dev.path = "dev/gone";
  dev.type = TarEntry::Type::kCharDev;
  dev.mode = 0600;
  TarEntry fifo;
  fifo.path = "run/pipe";
  fifo.type = TarEntry::Type::kFifo;
  fifo.mode = 0600;
  absl::StatusOr<std::string> diff_id =
      Unpack({Dir("etc"), file, dir, File("data/inside", "x"), Symlink("etc/link", "/etc/conf"),
              Hardlink("etc/hard", "etc/conf"), dev, fifo});
  ASSERT_TRUE(diff_id.ok()) << diff_id.status();
  EXPECT_EQ(*diff_id, expected_diff_id_);

  struct stat st;
  ASSERT_EQ(::lstat((dest_ + "/etc/conf").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 04750u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(st.st_mtime, 1234567890);
  EXPECT_EQ(st.st_size, 5);
  ino_t conf_ino = st.st_ino;
  char value[16] = {};
  ASSERT_EQ(::getxattr((dest_ + "/etc/conf").c_str(), "user.origin", value, sizeof(value)), 4);
  EXPECT_EQ(std::string(value, 4), "test");

  ASSERT_EQ(::lstat((dest_ + "/etc/hard").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, conf_ino);

  ASSERT_EQ(::lstat((dest_ + "/data").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_EQ(st.st_mtime, 1111111111);  // not bumped by data/inside

  char target[64] = {};
  ASSERT_GT(::readlink((dest_ + "/etc/link").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "/etc/conf");

  ASSERT_EQ(::lstat((dest_ + "/dev/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  ASSERT_EQ(::lstat((dest_ + "/run/pipe").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST_F(LayerUnpackerTest, DiffIdIsTheUncompressedDigestForEveryCompression) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    ASSERT_TRUE(RemoveAll(dest_).ok());
    absl::StatusOr<std::string> diff_id = Unpack({File("a", "content")}, c);
    ASSERT_TRUE(diff_id.ok()) << diff_id.status();
    EXPECT_EQ(*diff_id, expected_diff_id_);
    absl::StatusOr<std::string> content = ReadFile(dest_ + "/a");
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(*content, "content");
  }
}

TEST_F(LayerUnpackerTest, WhiteoutsBecomeOverlayMarkers) {
  absl::StatusOr<std::string> diff_id =
      Unpack({Dir("etc"), File("etc/.wh.removed", ""), Dir("var"), File("var/.wh..wh..opq", ""),
              File("var/kept", "k")});
  ASSERT_TRUE(diff_id.ok()) << diff_id.status();

  struct stat st;
  ASSERT_EQ(::lstat((dest_ + "/etc/removed").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(PathExists(dest_ + "/etc/.wh.removed"));

  char value[4] = {};
  ASSERT_EQ(::getxattr((dest_ + "/var").c_str(), "trusted.overlay.opaque", value, sizeof(value)), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_FALSE(PathExists(dest_ + "/var/.wh..wh..opq"));
  EXPECT_TRUE(PathExists(dest_ + "/var/kept"));
}

TEST_F(LayerUnpackerTest, RefusesDotDotEscape) { ExpectRefused({File("../evil", "x")}, "../evil"); }

TEST_F(LayerUnpackerTest, RefusesNestedDotDotEscape) {
  ExpectRefused({Dir("a"), File("a/../../evil", "x")}, "a/../../evil");
}

TEST_F(LayerUnpackerTest, RefusesAbsolutePath) {
  ExpectRefused({File("ok", "x"), File(root_ + "/evil", "x")}, root_ + "/evil");
}

TEST_F(LayerUnpackerTest, RefusesWritingThroughSymlinkOutside) {
  ExpectRefused({Symlink("link", outside_), File("link/pwned", "x")}, "link/pwned");
}

TEST_F(LayerUnpackerTest, RefusesWritingThroughAnySymlink) {
  ExpectRefused({Dir("real"), Symlink("link", "real"), File("link/file", "x")}, "link/file");
}

TEST_F(LayerUnpackerTest, RefusesDeviceNodes) {
  TarEntry mem;
  mem.path = "dev/mem";
  mem.type = TarEntry::Type::kCharDev;
  mem.dev_major = 1;
  mem.dev_minor = 1;
  ExpectRefused({Dir("dev"), mem}, "dev/mem");
}

TEST_F(LayerUnpackerTest, RefusesHardLinkOutside) {
  ExpectRefused({Hardlink("passwd", "../../../etc/passwd")}, "passwd");
}

TEST_F(LayerUnpackerTest, RefusesGarbage) {
  std::string blob = root_ + "/layer.blob";
  ASSERT_TRUE(testing::WriteBytes(blob, std::string(1500, 'z')).ok());
  absl::StatusOr<std::string> result = UnpackLayer(blob, dest_);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(PathExists(dest_));
}

}  // namespace
}  // namespace berth::image
