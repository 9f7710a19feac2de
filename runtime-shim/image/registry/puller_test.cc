// Puller against an in-memory registry (a fake HttpTransport): how many
// layers download at once, and that concurrent pulls share downloads.
#include "runtime-shim/image/registry/puller.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/test_archive.h"

namespace berth::image::registry {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Serves manifests and blobs from maps; counts blob GETs per digest and the
// most blob GETs in progress at once. `gate` (when set) runs inside a blob
// GET before it answers, with the lock released.
class FakeRegistry : public HttpTransport {
 public:
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request, const BodySink* sink) override {
    HttpResponse resp;
    size_t at = request.url.find("/manifests/");
    if (at != std::string::npos) {
      std::string key = request.url.substr(at + 11);
      std::unique_lock<std::mutex> lock(mu);
      ++manifest_gets;
      cv.notify_all();
      auto it = manifests.find(key);
      if (it == manifests.end()) {
        resp.status = 404;
        return resp;
      }
      resp.status = 200;
      resp.body = it->second;
      resp.headers["content-type"] = kOciManifest;
      return resp;
    }
    at = request.url.find("/blobs/");
    if (at == std::string::npos) return absl::InternalError("unexpected request " + request.url);
    std::string digest = request.url.substr(at + 7);
    std::function<void(const std::string&)> g;
    std::string content;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++blob_gets[digest];
      ++active;
      max_active = std::max(max_active, active);
      cv.notify_all();
      g = gate;
      auto it = blobs.find(digest);
      if (it != blobs.end()) content = it->second;
    }
    if (g) g(digest);
    absl::Status streamed;
    bool stalls = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      stalls = stall.count(digest) != 0;
    }
    if (stalls && !content.empty()) {
      // Half the blob, then nothing: polls keep_going as curl's progress
      // callback does, until it cancels the transfer (bounded).
      streamed = (*sink)(200, content.substr(0, content.size() / 2));
      auto deadline = std::chrono::steady_clock::now() + 20s;
      while (streamed.ok() && std::chrono::steady_clock::now() < deadline) {
        if (request.keep_going) streamed = request.keep_going();
        if (streamed.ok()) std::this_thread::sleep_for(10ms);
      }
      if (streamed.ok()) streamed = absl::UnavailableError("fake registry: stalled transfer never cancelled");
    } else if (!content.empty()) {
      resp.status = 200;
      streamed = (*sink)(200, content);
    } else {
      resp.status = 404;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      --active;
    }
    if (!streamed.ok()) return streamed;
    return resp;
  }

  // Waits (bounded) until `pred` holds under the lock.
  bool WaitFor(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 20s, pred);
  }

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::string> manifests;  // by tag or digest
  std::map<std::string, std::string> blobs;      // by digest
  std::map<std::string, int> blob_gets;
  int manifest_gets = 0;
  int active = 0, max_active = 0;
  std::function<void(const std::string&)> gate;
  std::set<std::string> stall;  // blob digests whose GET sends half, then stalls
};

class PullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-puller-test-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    auto store = ImageStore::Open(dir_ + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    fake_ = std::make_shared<FakeRegistry>();
  }
  void TearDown() override {
    store_.reset();
    (void)RemoveAll(dir_);
  }

  // A layer with one distinct file; cached so images can share it.
  testing::TestLayer Layer(const std::string& name) {
    auto it = layers_.find(name);
    if (it != layers_.end()) return it->second;
    auto layer = testing::MakeLayer({testing::File(name, "content of " + name + "\n")});
    EXPECT_TRUE(layer.ok()) << layer.status();
    return layers_[name] = *layer;
  }

  // Puts an image made of the named layers into the fake registry under tag.
  std::string AddImage(const std::string& tag, const std::vector<std::string>& layer_names) {
    testing::TestImage image;
    json layers = json::array();
    for (const std::string& n : layer_names) {
      testing::TestLayer l = Layer(n);
      image.layers.push_back(l);
      std::string digest = Sha256Digest(l.blob);
      fake_->blobs[digest] = l.blob;
      layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                        {"digest", digest},
                        {"size", l.blob.size()}});
    }
    std::string config = testing::ConfigJson(image);
    fake_->blobs[Sha256Digest(config)] = config;
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kOciManifest},
                     {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                 {"digest", Sha256Digest(config)},
                                 {"size", config.size()}}},
                     {"layers", layers}};
    std::string body = manifest.dump();
    fake_->manifests[tag] = body;
    fake_->manifests[Sha256Digest(body)] = body;
    return Sha256Digest(config);
  }

  std::unique_ptr<Puller> NewPuller(int max_concurrent) {
    RegistryConfig config;
    config.hosts["reg.test"].insecure = true;
    PullOptions options;
    options.max_concurrent_downloads = max_concurrent;
    return std::make_unique<Puller>(store_.get(), std::make_shared<RegistryClient>(config, fake_), options);
  }

  int BlobGets(const std::string& layer_name) {
    std::lock_guard<std::mutex> lock(fake_->mu);
    return fake_->blob_gets[Sha256Digest(Layer(layer_name).blob)];
  }

  std::string dir_;
  std::unique_ptr<ImageStore> store_;
  std::shared_ptr<FakeRegistry> fake_;
  std::map<std::string, testing::TestLayer> layers_;
};

// Each layer GET waits until `limit` GETs are in progress or every layer's
// GET has started (bounded), so the pull reaches its limit if it allows it;
// it must never go past it.
void HoldUntilConcurrent(FakeRegistry& fake, int limit, std::set<std::string> layers) {
  fake.gate = [&fake, limit, layers](const std::string& digest) {
    if (!layers.count(digest)) return;
    std::unique_lock<std::mutex> lock(fake.mu);
    fake.cv.wait_for(lock, 5s, [&] {
      size_t started = 0;
      for (const std::string& d : layers) started += fake.blob_gets[d] > 0;
      return fake.active >= limit || started == layers.size();
    });
  };
}

TEST_F(PullerTest, DownloadsLayersConcurrentlyUpToTheLimit) {
  for (int limit : {1, 2, 3}) {
    std::string tag = absl::StrCat("limit", limit);
    std::vector<std::string> names;
    for (int i = 0; i < 6; ++i) names.push_back(absl::StrCat(tag, "-layer", i));
    std::string id = AddImage(tag, names);
    {
      std::lock_guard<std::mutex> lock(fake_->mu);
      fake_->max_active = 0;
    }
    std::set<std::string> digests;
    for (const std::string& n : names) digests.insert(Sha256Digest(layers_[n].blob));
    HoldUntilConcurrent(*fake_, limit, digests);
    auto puller = NewPuller(limit);
    auto image = puller->Pull("reg.test/app:" + tag);
    ASSERT_TRUE(image.ok()) << image.status();
    EXPECT_EQ(image->id, id);
    std::lock_guard<std::mutex> lock(fake_->mu);
    EXPECT_EQ(fake_->max_active, limit) << "limit " << limit;
    for (const std::string& n : names) EXPECT_EQ(fake_->blob_gets[Sha256Digest(layers_[n].blob)], 1) << n;
  }
}

TEST_F(PullerTest, DefaultLimitIsThree) {
  EXPECT_EQ(PullOptions{}.max_concurrent_downloads, 3);
}

TEST_F(PullerTest, ConcurrentPullsOfTheSameImageDownloadEachBlobOnce) {
  AddImage("v1", {"base", "mid", "top"});
  auto puller = NewPuller(3);
  // The first pull's layer downloads wait until the second pull has asked for the manifest.
  fake_->gate = [this](const std::string&) {
    std::unique_lock<std::mutex> lock(fake_->mu);
    fake_->cv.wait_for(lock, 5s, [&] { return fake_->manifest_gets >= 2; });
  };
  absl::StatusOr<Image> a, b;
  std::thread ta([&] { a = puller->Pull("reg.test/app:v1"); });
  ASSERT_TRUE(fake_->WaitFor([&] { return fake_->active > 0; }));
  std::thread tb([&] { b = puller->Pull("reg.test/app:v1"); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->id, b->id);
  for (const char* n : {"base", "mid", "top"}) EXPECT_EQ(BlobGets(n), 1) << n;
  EXPECT_EQ(store_->List().size(), 1u);
}

TEST_F(PullerTest, ConcurrentPullsOfImagesSharingALayerDownloadItOnce) {
  AddImage("one", {"shared", "only-one"});
  AddImage("two", {"shared", "only-two"});
  auto puller = NewPuller(3);
  std::string shared = Sha256Digest(Layer("shared").blob);
  // The shared layer's download waits until the second pull has its manifest.
  fake_->gate = [this, shared](const std::string& digest) {
    if (digest != shared) return;
    std::unique_lock<std::mutex> lock(fake_->mu);
    fake_->cv.wait_for(lock, 5s, [&] { return fake_->manifest_gets >= 2; });
  };
  absl::StatusOr<Image> a, b;
  std::thread ta([&] { a = puller->Pull("reg.test/app:one"); });
  ASSERT_TRUE(fake_->WaitFor([&] { return fake_->blob_gets[shared] > 0; }));
  std::thread tb([&] { b = puller->Pull("reg.test/app:two"); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(BlobGets("shared"), 1);
  EXPECT_EQ(BlobGets("only-one"), 1);
  EXPECT_EQ(BlobGets("only-two"), 1);
  EXPECT_EQ(store_->List().size(), 2u);
  auto dirs = store_->LayerDirs(*b);
  ASSERT_TRUE(dirs.ok()) << dirs.status();
  EXPECT_TRUE(PathExists(dirs->back() + "/shared"));
}

TEST_F(PullerTest, ASecondImageWithOneNewLayerDownloadsOnlyThatLayer) {
  AddImage("v1", {"l1", "l2", "l3"});
  AddImage("v2", {"l1", "l2", "l3-new"});
  auto puller = NewPuller(3);
  ASSERT_TRUE(puller->Pull("reg.test/app:v1").ok());
  ASSERT_TRUE(puller->Pull("reg.test/app:v2").ok());
  EXPECT_EQ(BlobGets("l1"), 1);
  EXPECT_EQ(BlobGets("l2"), 1);
  EXPECT_EQ(BlobGets("l3"), 1);
  EXPECT_EQ(BlobGets("l3-new"), 1);
}

TEST_F(PullerTest, StalledPullIsCancelledNamingTheReferenceAndLayer) {
  AddImage("stall", {"stall-ok", "stall-stuck"});
  std::string stuck = Sha256Digest(Layer("stall-stuck").blob);
  {
    std::lock_guard<std::mutex> lock(fake_->mu);
    fake_->stall.insert(stuck);
  }
  RegistryConfig config;
  config.hosts["reg.test"].insecure = true;
  PullOptions options;
  options.progress_deadline = absl::Milliseconds(300);
  Puller puller(store_.get(), std::make_shared<RegistryClient>(config, fake_), options);
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Image> image = puller.Pull("reg.test/app:stall");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), absl::StatusCode::kDeadlineExceeded) << image.status();
  EXPECT_TRUE(absl::StrContains(image.status().message(), "reg.test/app:stall")) << image.status();
  EXPECT_TRUE(absl::StrContains(image.status().message(), "layer " + stuck)) << image.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << "cancelled by the deadline, not the fake's bound";
  EXPECT_EQ(BlobGets("stall-stuck"), 1) << "a cancelled download is not retried";
  EXPECT_TRUE(store_->List().empty());
  // Nothing half-written is left in the staging dir.
  absl::StatusOr<std::vector<std::string>> staged = ListDir(dir_ + "/store/tmp");
  if (staged.ok()) {
    for (const std::string& pull_dir : *staged) {
      absl::StatusOr<std::vector<std::string>> files = ListDir(dir_ + "/store/tmp/" + pull_dir);
      for (const std::string& name : files.value_or(std::vector<std::string>{})) {
        EXPECT_FALSE(absl::StrContains(name, stuck.substr(7))) << pull_dir << "/" << name;
      }
    }
  }
}

}  // namespace
}  // namespace berth::image::registry
