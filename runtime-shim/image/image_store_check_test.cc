// images check: a store corrupted in each way is reported, --repair removes
// what is orphaned or corrupt (and the records that depended on it), keeps
// everything else, and a second check is clean.
#include "runtime-shim/image/image_store_check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image {
namespace {

using testing::File;
using testing::TestImage;
using testing::TestLayer;

class ImageStoreCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-check-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    root_ = tmp_ + "/images";
    auto base = testing::MakeLayer({File("base", "base layer\n")});
    auto app = testing::MakeLayer({File("app", "app layer\n")});
    auto tool = testing::MakeLayer({File("tool", "tool layer\n")});
    ASSERT_TRUE(base.ok() && app.ok() && tool.ok());
    // "app" = base + app, "tool" = base + tool: they share the base layer.
    app_.layers = {*base, *app};
    tool_.layers = {*base, *tool};
    auto archive = testing::MakeOciArchive({{"example.com/app:1", app_}, {"example.com/tool:1", tool_}});
    ASSERT_TRUE(archive.ok()) << archive.status();
    std::string path = tmp_ + "/images.tar";
    ASSERT_TRUE(testing::WriteBytes(path, *archive).ok());
    auto store = ImageStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    auto imported = (*store)->Import(path);
    ASSERT_TRUE(imported.ok()) << imported.status();
    ASSERT_EQ(imported->size(), 2u);
    for (const Image& image : *imported) images_[image.repo_tags.at(0)] = image;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(tmp_).ok()); }

  StoreCheckResult Check(bool repair) {
    StoreCheckOptions options;
    options.repair = repair;
    auto result = CheckImageStore(root_, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(StoreCheckResult{});
  }

  static std::vector<std::string> Kinds(const StoreCheckResult& r) {
    std::vector<std::string> kinds;
    for (const StoreFinding& f : r.findings) kinds.push_back(f.kind);
    return kinds;
  }

  static const StoreFinding* Find(const StoreCheckResult& r, const std::string& kind) {
    for (const StoreFinding& f : r.findings) {
      if (f.kind == kind) return &f;
    }
    return nullptr;
  }

  std::string BlobPath(const std::string& digest) { return absl::StrCat(root_, "/blobs/sha256/", digest.substr(7)); }
  std::string SnapshotPath(const std::string& chain) { return absl::StrCat(root_, "/snapshots/", chain.substr(7)); }
  std::string RecordPath(const Image& image) { return absl::StrCat(root_, "/images/", image.id.substr(7), ".json"); }
  std::string LayerDigest(const TestImage& image, size_t i) { return Sha256Digest(image.layers[i].blob); }

  // Both images still open and their layers are there.
  void ExpectUsable(const std::string& name) {
    auto store = ImageStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status();
    auto image = (*store)->Resolve(name);
    ASSERT_TRUE(image.ok()) << name << ": " << image.status();
    auto dirs = (*store)->LayerDirs(*image);
    EXPECT_TRUE(dirs.ok()) << dirs.status();
  }

  std::string tmp_, root_;
  TestImage app_, tool_;
  std::map<std::string, Image> images_;
};

TEST_F(ImageStoreCheckTest, ACleanStoreHasNoFindings) {
  StoreCheckResult r = Check(false);
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].Line();
  EXPECT_EQ(r.Remaining(), 0u);
  EXPECT_EQ(r.records_seen, 2u);
  EXPECT_EQ(r.snapshots_seen, 3u);
  // 2 configs, 2 manifests, 3 layers.
  EXPECT_EQ(r.blobs_verified, 7u);
}

TEST_F(ImageStoreCheckTest, OrphanedSnapshotAndBlobAreFoundAndRemoved) {
  std::string orphan_snapshot = absl::StrCat(root_, "/snapshots/", std::string(64, 'a'));
  std::string orphan_blob = absl::StrCat(root_, "/blobs/sha256/", std::string(64, 'b'));
  ASSERT_TRUE(MkdirAll(orphan_snapshot + "/fs/etc").ok());
  ASSERT_TRUE(AtomicWriteFile(orphan_blob, "nobody's").ok());

  StoreCheckResult r = Check(false);
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"orphaned-snapshot", "orphaned-blob"}));
  EXPECT_EQ(r.findings[0].path, orphan_snapshot);
  EXPECT_EQ(r.findings[1].path, orphan_blob);
  EXPECT_EQ(r.Remaining(), 2u);
  EXPECT_TRUE(PathExists(orphan_blob)) << "a check without --repair changes nothing";

  r = Check(true);
  EXPECT_EQ(r.Remaining(), 0u);
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_TRUE(absl::EndsWith(r.findings[1].Line(), ": repaired")) << r.findings[1].Line();
  EXPECT_FALSE(PathExists(orphan_snapshot));
  EXPECT_FALSE(PathExists(orphan_blob));
  EXPECT_TRUE(Check(false).findings.empty());
  ExpectUsable("example.com/app:1");
  ExpectUsable("example.com/tool:1");
}

TEST_F(ImageStoreCheckTest, HalfWrittenLeftoversAreFoundAndRemoved) {
  std::vector<std::string> leftovers = {
      root_ + "/tmp/pull-123456",
      absl::StrCat(root_, "/snapshots/", std::string(64, 'c'), ".tmp-42"),
      absl::StrCat(root_, "/blobs/sha256/", std::string(64, 'd'), ".partial"),
      root_ + "/images/.record.json.tmp",
  };
  ASSERT_TRUE(MkdirAll(leftovers[0] + "/x").ok());
  ASSERT_TRUE(MkdirAll(leftovers[1] + "/fs").ok());
  ASSERT_TRUE(AtomicWriteFile(leftovers[2], "half").ok());
  ASSERT_TRUE(AtomicWriteFile(leftovers[3], "{").ok());
  StoreCheckResult r = Check(false);
  EXPECT_EQ(Kinds(r), std::vector<std::string>(4, "leftover"));
  r = Check(true);
  EXPECT_EQ(r.findings.size(), 4u);
  EXPECT_EQ(r.Remaining(), 0u);
  for (const std::string& path : leftovers) EXPECT_FALSE(PathExists(path)) << path;
  EXPECT_TRUE(Check(false).findings.empty());
}

TEST_F(ImageStoreCheckTest, CorruptLayerBlobInvalidatesOnlyItsImage) {
  // app's own layer: the app image goes, tool and the shared base stay.
  std::string blob = BlobPath(LayerDigest(app_, 1));
  ASSERT_TRUE(AtomicWriteFile(blob, "flipped bits").ok());
  StoreCheckResult r = Check(false);
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"corrupt-blob", "invalid-record"}));
  EXPECT_EQ(r.findings[0].path, blob);
  EXPECT_NE(r.findings[0].detail.find("hashes to " + Sha256Digest("flipped bits")), std::string::npos);
  EXPECT_EQ(r.findings[1].path, RecordPath(images_["example.com/app:1"]));
  EXPECT_NE(r.findings[1].detail.find("example.com/app:1"), std::string::npos) << r.findings[1].detail;

  r = Check(true);
  // The corrupt blob and app's record go, then what only app used: its
  // config, manifest and top snapshot.
  EXPECT_EQ(r.Remaining(), 0u);
  EXPECT_FALSE(PathExists(blob));
  EXPECT_FALSE(PathExists(RecordPath(images_["example.com/app:1"])));
  EXPECT_FALSE(PathExists(SnapshotPath(images_["example.com/app:1"].chain_ids[1])));
  EXPECT_TRUE(PathExists(SnapshotPath(images_["example.com/app:1"].chain_ids[0])));  // shared base
  EXPECT_TRUE(PathExists(BlobPath(LayerDigest(app_, 0))));
  EXPECT_TRUE(Find(r, "orphaned-snapshot") != nullptr);
  EXPECT_TRUE(Check(false).findings.empty());
  ExpectUsable("example.com/tool:1");
  auto store = ImageStore::Open(root_);
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(absl::IsNotFound((*store)->Resolve("example.com/app:1").status()));
}

TEST_F(ImageStoreCheckTest, CorruptSharedBlobInvalidatesBothImagesAndGoesOnPastTheFirst) {
  std::string blob = BlobPath(LayerDigest(app_, 0));
  ASSERT_TRUE(AtomicWriteFile(blob, "x").ok());
  // A second, independent problem after it: it must still be found.
  std::string orphan = absl::StrCat(root_, "/blobs/sha256/", std::string(64, 'e'));
  ASSERT_TRUE(AtomicWriteFile(orphan, "orphan").ok());
  StoreCheckResult r = Check(false);
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"corrupt-blob", "invalid-record", "invalid-record", "orphaned-blob"}));
  r = Check(true);
  EXPECT_EQ(r.Remaining(), 0u);
  auto store = ImageStore::Open(root_);
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->List().empty());
  EXPECT_TRUE(PathExists(root_ + "/blobs/sha256")) << "the store itself stays";
  EXPECT_TRUE(Check(false).findings.empty());
}

TEST_F(ImageStoreCheckTest, MissingBlobOrSnapshotInvalidatesTheRecord) {
  const Image& tool = images_["example.com/tool:1"];
  ASSERT_TRUE(RemoveAll(SnapshotPath(tool.chain_ids[1])).ok());
  ASSERT_EQ(::unlink(BlobPath(tool.id).c_str()), 0);  // its config
  StoreCheckResult r = Check(false);
  ASSERT_EQ(Kinds(r), std::vector<std::string>{"invalid-record"});
  EXPECT_NE(r.findings[0].detail.find(absl::StrCat("blob ", tool.id, " missing")), std::string::npos)
      << r.findings[0].detail;
  EXPECT_NE(r.findings[0].detail.find(absl::StrCat("snapshot ", tool.chain_ids[1].substr(7), " missing")),
            std::string::npos)
      << r.findings[0].detail;
  r = Check(true);
  EXPECT_EQ(r.Remaining(), 0u);
  EXPECT_FALSE(PathExists(RecordPath(tool)));
  EXPECT_TRUE(Check(false).findings.empty());
  ExpectUsable("example.com/app:1");
}

TEST_F(ImageStoreCheckTest, SnapshotWithoutFsAndUnreadableRecord) {
  const Image& app = images_["example.com/app:1"];
  ASSERT_TRUE(RemoveAll(SnapshotPath(app.chain_ids[1]) + "/fs").ok());
  std::string bad_record = absl::StrCat(root_, "/images/", std::string(64, 'f'), ".json");
  ASSERT_TRUE(AtomicWriteFile(bad_record, "not json").ok());
  StoreCheckResult r = Check(false);
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"bad-record", "corrupt-snapshot", "invalid-record"}));
  EXPECT_EQ(r.findings[0].path, bad_record);
  r = Check(true);
  EXPECT_EQ(r.Remaining(), 0u);
  EXPECT_FALSE(PathExists(bad_record));
  EXPECT_TRUE(Check(false).findings.empty());
  ExpectUsable("example.com/tool:1");
}

TEST_F(ImageStoreCheckTest, ARecordWithAnotherIdIsBad) {
  const Image& app = images_["example.com/app:1"];
  std::string copy = absl::StrCat(root_, "/images/", std::string(64, '0'), ".json");
  auto text = ReadFile(RecordPath(app));
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(AtomicWriteFile(copy, *text).ok());
  StoreCheckResult r = Check(false);
  ASSERT_EQ(Kinds(r), std::vector<std::string>{"bad-record"});
  EXPECT_NE(r.findings[0].detail.find("does not match the file name"), std::string::npos);
}

TEST_F(ImageStoreCheckTest, FindingsAreStreamedAndBadRootsRefused) {
  ASSERT_TRUE(AtomicWriteFile(absl::StrCat(root_, "/blobs/sha256/", std::string(64, '1')), "o").ok());
  std::vector<std::string> lines;
  StoreCheckOptions options;
  options.on_finding = [&](const StoreFinding& f) { lines.push_back(f.Line()); };
  auto r = CheckImageStore(root_, options);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], absl::StrCat("orphaned-blob ", root_, "/blobs/sha256/", std::string(64, '1'),
                                   ": referenced by no image"));
  EXPECT_TRUE(absl::IsInvalidArgument(CheckImageStore("relative", {}).status()));
  EXPECT_TRUE(absl::IsNotFound(CheckImageStore(tmp_ + "/nope", {}).status()));
}

TEST_F(ImageStoreCheckTest, MissingLayoutDirIsRecreatedByRepair) {
  ASSERT_TRUE(RemoveAll(root_ + "/tmp").ok());
  StoreCheckResult r = Check(false);
  EXPECT_EQ(Kinds(r), std::vector<std::string>{"missing-dir"});
  r = Check(true);
  EXPECT_EQ(r.Remaining(), 0u);
  EXPECT_TRUE(PathExists(root_ + "/tmp"));
}

}  // namespace
}  // namespace berth::image
