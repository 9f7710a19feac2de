#include "runtime-shim/image/image_gc.h"

#include <stdlib.h>

#include <string>

#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::File;
using testing::TestImage;

// A disk of 1000 bytes where each image in the store takes 100 bytes on top
// of a fixed `base` use.
class ImageGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-gc-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    absl::StatusOr<std::unique_ptr<ImageStore>> store = ImageStore::Open(tmp_ + "/images");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    for (const char* name : {"a", "b", "c", "d"}) {
      absl::StatusOr<testing::TestLayer> layer = testing::MakeLayer({File(name, name)});
      ASSERT_TRUE(layer.ok());
      TestImage image;
      image.layers = {*layer};
      absl::StatusOr<std::string> archive = testing::MakeOciArchive({{std::string("example.com/") + name + ":1", image}});
      ASSERT_TRUE(archive.ok());
      std::string path = tmp_ + "/" + name + ".tar";
      ASSERT_TRUE(testing::WriteBytes(path, *archive).ok());
      absl::StatusOr<std::vector<Image>> imported = store_->Import(path);
      ASSERT_TRUE(imported.ok()) << imported.status();
      ids_[name] = imported->at(0).id;
    }
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(tmp_).ok()); }

  DiskUsageFn FakeUsage() {
    return [this]() -> absl::StatusOr<DiskUsage> {
      ++usage_calls_;
      return DiskUsage{1000, 1000 - base_ - 100 * store_->List().size()};
    };
  }
  std::unique_ptr<ImageGc> MakeGc(ImageGcPolicy policy = {}) {
    return std::make_unique<ImageGc>(store_.get(), policy, FakeUsage(), tmp_ + "/gc-state.json",
                                     [this] { return now_; });
  }
  bool Has(const char* name) { return store_->Resolve(ids_[name]).ok(); }

  std::string tmp_;
  std::unique_ptr<ImageStore> store_;
  std::map<std::string, std::string> ids_;
  uint64_t base_ = 0;
  int usage_calls_ = 0;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(ImageGcTest, BelowHighThresholdRemovesNothing) {
  base_ = 400;  // 400 + 4*100 = 80% <= 85%
  auto gc = MakeGc();
  now_ += absl::Hours(1);
  absl::StatusOr<ImageGcResult> result = gc->Collect({});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->usage_percent_before, 80);
  EXPECT_THAT(result->removed, IsEmpty());
  EXPECT_EQ(store_->List().size(), 4u);
}

TEST_F(ImageGcTest, RemovesLeastRecentlyUsedUnusedImagesUntilUnderLow) {
  base_ = 500;  // 90% with four images; low 80% needs two gone (70%)
  auto gc = MakeGc();
  ASSERT_TRUE(gc->Collect({}).ok());  // first seen now: nothing is old enough yet
  EXPECT_EQ(store_->List().size(), 4u);
  now_ += absl::Minutes(5);
  gc->MarkUsed("example.com/a:1");
  now_ += absl::Minutes(1);
  gc->MarkUsed(ids_["c"]);
  now_ += absl::Minutes(1);
  gc->MarkUsed("example.com/b:1");
  now_ += absl::Minutes(1);
  // d was used least recently (never since first seen), then a; c is in use.
  absl::StatusOr<ImageGcResult> result = gc->Collect({ids_["c"]});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->usage_percent_before, 90);
  EXPECT_EQ(result->usage_percent_after, 70);
  EXPECT_THAT(result->removed, ElementsAre(ids_["d"], ids_["a"]));
  EXPECT_TRUE(Has("b"));
  EXPECT_TRUE(Has("c"));
  EXPECT_FALSE(Has("a"));
  EXPECT_FALSE(Has("d"));
}

TEST_F(ImageGcTest, NeverRemovesImagesInUseOrYoungerThanMinAge) {
  base_ = 600;  // 100% full
  auto gc = MakeGc();
  ASSERT_TRUE(gc->Collect({}).ok());
  EXPECT_EQ(store_->List().size(), 4u) << "images first seen now are younger than 2m";
  now_ += absl::Minutes(1);
  absl::StatusOr<ImageGcResult> result = gc->Collect({});
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(result->removed, IsEmpty());
  now_ += absl::Minutes(2);
  result = gc->Collect({ids_["a"], ids_["b"]});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->removed.size(), 2u);
  EXPECT_TRUE(Has("a"));
  EXPECT_TRUE(Has("b"));
  EXPECT_EQ(result->usage_percent_after, 80) << "still not under low: the rest are in use";
}

TEST_F(ImageGcTest, LastUsedSurvivesRestart) {
  base_ = 500;
  {
    auto gc = MakeGc();
    ASSERT_TRUE(gc->Collect({}).ok());
    now_ += absl::Minutes(10);
    gc->MarkUsed(ids_["d"]);
    gc->MarkUsed(ids_["c"]);
  }
  now_ += absl::Minutes(1);
  auto gc = MakeGc();  // a restarted runtime reads the side file
  absl::StatusOr<ImageGcResult> result = gc->Collect({});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->removed.size(), 2u);
  EXPECT_TRUE(Has("c"));
  EXPECT_TRUE(Has("d"));
}

TEST_F(ImageGcTest, BadPolicyIsRefusedNamingTheField) {
  ImageGcPolicy policy;
  policy.high_threshold_percent = 101;
  absl::Status status = ValidateImageGcPolicy(policy);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("image-gc-high-threshold: 101"));
  policy.high_threshold_percent = 70;
  status = ValidateImageGcPolicy(policy);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("image-gc-low-threshold: 80"));
  EXPECT_TRUE(ValidateImageGcPolicy(ImageGcPolicy{}).ok());
}

TEST_F(ImageGcTest, StatfsReportsTheFilesystem) {
  absl::StatusOr<DiskUsage> usage = StatfsDiskUsage(tmp_)();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GT(usage->capacity_bytes, 0u);
  EXPECT_LE(usage->available_bytes, usage->capacity_bytes);
  EXPECT_FALSE(StatfsDiskUsage(tmp_ + "/nope")().ok());
}

}  // namespace
}  // namespace berth::image
