#include "runtime-shim/image/import_watcher.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image {
namespace {

using testing::File;
using testing::TestImage;

// Collects the watcher's import attempts; waits for them with a deadline.
struct Attempts {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, absl::Status>> seen;

  void Add(const std::string& path, const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(path.substr(path.rfind('/') + 1), status);
    cv.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen.size() >= n; });
  }
  std::vector<std::string> Names() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> names;
    for (const auto& [name, status] : seen) names.push_back(name);
    return names;
  }
};

class ImportWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-import-watcher-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    watched_ = tmp_ + "/import";
    OpenStore();
  }
  void TearDown() override {
    watcher_.reset();
    store_.reset();
    ASSERT_TRUE(RemoveAll(tmp_).ok());
  }

  void OpenStore() {
    auto store = ImageStore::Open(tmp_ + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void StartWatcher() {
    ImportWatcherOptions options;
    options.dir = watched_;
    options.ledger = tmp_ + "/image-imports.json";
    options.on_import = [this](const std::string& path, const absl::Status& s) { attempts_.Add(path, s); };
    auto watcher = ImportWatcher::Start(store_.get(), options);
    ASSERT_TRUE(watcher.ok()) << watcher.status();
    watcher_ = std::move(*watcher);
  }

  // An image of `n` layers, layer i holding file "f<i>" (so two calls share their layers).
  static TestImage ImageOf(int n) {
    TestImage image;
    for (int i = 0; i < n; ++i) {
      auto layer = testing::MakeLayer({File(absl::StrCat("f", i), absl::StrCat("layer ", i, "\n"))});
      EXPECT_TRUE(layer.ok());
      image.layers.push_back(*layer);
    }
    return image;
  }

  // open, write, close in the watched dir (IN_CLOSE_WRITE), as cp does.
  void WriteInPlace(const std::string& name, const std::string& bytes) {
    std::ofstream out(watched_ + "/" + name, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    ASSERT_TRUE(out.good());
  }

  // Writes the archive beside the watched dir and renames it in (IN_MOVED_TO).
  void DropByRename(const std::string& name, const std::string& bytes) {
    std::string staged = tmp_ + "/" + name + ".part";
    ASSERT_TRUE(testing::WriteBytes(staged, bytes).ok());
    ASSERT_EQ(::rename(staged.c_str(), (watched_ + "/" + name).c_str()), 0);
  }

  std::string tmp_, watched_;
  std::unique_ptr<ImageStore> store_;
  std::unique_ptr<ImportWatcher> watcher_;
  Attempts attempts_;
};

TEST_F(ImportWatcherTest, ImportsWhatIsThereAtStartAndWhatAppearsOnceEach) {
  ASSERT_TRUE(MkdirAll(watched_).ok());
  auto first = testing::MakeOciArchive({{"example.com/first:1", ImageOf(1)}});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(testing::WriteBytes(watched_ + "/first.tar", *first).ok());
  StartWatcher();
  ASSERT_TRUE(attempts_.WaitFor(1));
  EXPECT_TRUE(store_->Resolve("example.com/first:1").ok());

  // Written in place (IN_CLOSE_WRITE), with a hidden temp file that is ignored.
  auto second = testing::MakeOciArchive({{"example.com/second:1", ImageOf(2)}});
  ASSERT_TRUE(second.ok());
  WriteInPlace(".second.tar.tmp", "not yet");
  WriteInPlace("second.tar", *second);
  ASSERT_TRUE(attempts_.WaitFor(2));
  EXPECT_TRUE(store_->Resolve("example.com/second:1").ok());

  // Renamed in (IN_MOVED_TO), a docker-archive this time.
  auto third = testing::MakeDockerArchive({{{"example.com/third:1"}, ImageOf(3)}});
  ASSERT_TRUE(third.ok());
  DropByRename("third.tar", *third);
  ASSERT_TRUE(attempts_.WaitFor(3));
  EXPECT_TRUE(store_->Resolve("example.com/third:1").ok());
  EXPECT_EQ(attempts_.Names(), (std::vector<std::string>{"first.tar", "second.tar", "third.tar"}));

  // A restart does not import them again: the next attempt is the new archive.
  watcher_.reset();
  ASSERT_TRUE(store_->Remove("example.com/first:1").ok());
  StartWatcher();
  auto fourth = testing::MakeOciArchive({{"example.com/fourth:1", ImageOf(1)}});
  ASSERT_TRUE(fourth.ok());
  DropByRename("fourth.tar", *fourth);
  ASSERT_TRUE(attempts_.WaitFor(4));
  EXPECT_EQ(attempts_.Names().back(), "fourth.tar");
  EXPECT_FALSE(store_->Resolve("example.com/first:1").ok()) << "first.tar was imported again";
  auto ledger = ReadFile(tmp_ + "/image-imports.json");
  ASSERT_TRUE(ledger.ok());
  EXPECT_NE(ledger->find("\"fourth.tar\""), std::string::npos);
}

TEST_F(ImportWatcherTest, AFailedImportIsRecordedAndTheWatcherGoesOn) {
  StartWatcher();
  DropByRename("broken.tar", "this is not a tar archive");
  ASSERT_TRUE(attempts_.WaitFor(1));
  {
    std::lock_guard<std::mutex> lock(attempts_.mu);
    EXPECT_FALSE(attempts_.seen[0].second.ok());
  }
  EXPECT_TRUE(PathExists(watched_ + "/broken.tar")) << "a failed archive is left in place";
  auto ledger = ReadFile(tmp_ + "/image-imports.json");
  ASSERT_TRUE(ledger.ok());
  EXPECT_NE(ledger->find("\"ok\": false"), std::string::npos) << *ledger;

  auto good = testing::MakeOciArchive({{"example.com/good:1", ImageOf(1)}});
  ASSERT_TRUE(good.ok());
  DropByRename("good.tar", *good);
  ASSERT_TRUE(attempts_.WaitFor(2));
  EXPECT_TRUE(store_->Resolve("example.com/good:1").ok());

  // Replacing the broken file with a good archive retries it.
  auto fixed = testing::MakeOciArchive({{"example.com/fixed:1", ImageOf(2)}});
  ASSERT_TRUE(fixed.ok());
  DropByRename("broken.tar", *fixed);
  ASSERT_TRUE(attempts_.WaitFor(3));
  EXPECT_TRUE(store_->Resolve("example.com/fixed:1").ok());
}

TEST_F(ImportWatcherTest, ReimportWithOneNewLayerUnpacksOnlyThatLayer) {
  StartWatcher();
  TestImage v1 = ImageOf(3);
  auto a1 = testing::MakeOciArchive({{"example.com/big:1", v1}});
  ASSERT_TRUE(a1.ok());
  DropByRename("big-1.tar", *a1);
  ASSERT_TRUE(attempts_.WaitFor(1));
  auto image1 = store_->Resolve("example.com/big:1");
  ASSERT_TRUE(image1.ok()) << image1.status();
  std::map<std::string, ino_t> inodes;
  for (const std::string& chain : image1->chain_ids) {
    struct stat st;
    ASSERT_EQ(::stat((store_->root() + "/snapshots/" + chain.substr(7)).c_str(), &st), 0);
    inodes[chain] = st.st_ino;
  }

  TestImage v2 = ImageOf(4);  // the same three layers and one more
  auto a2 = testing::MakeOciArchive({{"example.com/big:2", v2}});
  ASSERT_TRUE(a2.ok());
  DropByRename("big-2.tar", *a2);
  ASSERT_TRUE(attempts_.WaitFor(2));
  auto image2 = store_->Resolve("example.com/big:2");
  ASSERT_TRUE(image2.ok()) << image2.status();
  ASSERT_EQ(image2->chain_ids.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(image2->chain_ids[i], image1->chain_ids[i]);
    struct stat st;
    ASSERT_EQ(::stat((store_->root() + "/snapshots/" + image2->chain_ids[i].substr(7)).c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, inodes[image2->chain_ids[i]]) << "layer " << i << " was unpacked again";
  }
  auto snapshots = ListDir(store_->root() + "/snapshots");
  ASSERT_TRUE(snapshots.ok());
  EXPECT_EQ(snapshots->size(), 4u);
}

TEST_F(ImportWatcherTest, BadOptionsAreRefused) {
  ImportWatcherOptions options;
  options.dir = "relative";
  options.ledger = tmp_ + "/l.json";
  auto w = ImportWatcher::Start(store_.get(), options);
  EXPECT_TRUE(absl::IsInvalidArgument(w.status()));
  EXPECT_NE(w.status().message().find("relative"), std::string::npos);
  options.dir = tmp_ + "/d";
  options.ledger = "";
  EXPECT_TRUE(absl::IsInvalidArgument(ImportWatcher::Start(store_.get(), options).status()));
}

}  // namespace
}  // namespace berth::image
