#include "controlplane/client/informer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "controlplane/client/local_api_test_env.h"

namespace berth::client {
namespace {

using nlohmann::json;

json ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"data", {{"v", value}}}};
}

// What the handlers saw, as "add name", "update name old->new", "delete name".
class Log {
 public:
  InformerHandlers Handlers() {
    InformerHandlers h;
    h.on_add = [this](const json& o) { Push("add " + Name(o) + " " + Value(o)); };
    h.on_update = [this](const json& a, const json& b) {
      Push("update " + Name(b) + " " + Value(a) + "->" + Value(b));
    };
    h.on_delete = [this](const json& o) { Push("delete " + Name(o)); };
    return h;
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return lines_.size() >= n; });
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  static std::string Name(const json& o) { return o["metadata"].value("name", ""); }
  static std::string Value(const json& o) { return o.value("data", json::object()).value("v", ""); }
  void Push(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.error().ok()) << env_.error(); }
  ApiClient* client() { return env_.client(); }
  LocalApiTestEnv env_;
};

TEST_F(InformerTest, ListsThenWatchesAndCallsHandlersInOrder) {
  ASSERT_TRUE(client()->Create(resources::kConfigMaps, "default", ConfigMap("a", "1")).ok());
  ASSERT_TRUE(client()->Create(resources::kConfigMaps, "default", ConfigMap("b", "1")).ok());
  Informer informer(client(), resources::kConfigMaps, {.ns = "default"});
  Log log;
  informer.AddHandlers(log.Handlers());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(absl::Seconds(10)));
  EXPECT_EQ(informer.size(), 2u);
  ASSERT_TRUE(log.WaitFor(2));

  ASSERT_TRUE(client()->Patch(resources::kConfigMaps, "default", "a", PatchType::kMerge, {{"data", {{"v", "2"}}}}).ok());
  ASSERT_TRUE(client()->Create(resources::kConfigMaps, "default", ConfigMap("c", "1")).ok());
  ASSERT_TRUE(client()->Delete(resources::kConfigMaps, "default", "b").ok());
  ASSERT_TRUE(log.WaitFor(5));
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"add a 1", "add b 1", "update a 1->2", "add c 1", "delete b"}));
  auto a = informer.Get("default", "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ((*a)["data"]["v"], "2");
  EXPECT_EQ((*a)["kind"], "ConfigMap");
  EXPECT_FALSE(informer.Get("default", "b").has_value());
  EXPECT_EQ(informer.List().size(), 2u);

  informer.Stop();
  ASSERT_TRUE(client()->Create(resources::kConfigMaps, "default", ConfigMap("after", "1")).ok());
  // A second informer sees it; the stopped one got nothing more.
  Informer other(client(), resources::kConfigMaps, {.ns = "default"});
  other.Start();
  ASSERT_TRUE(other.WaitForSync(absl::Seconds(10)));
  EXPECT_TRUE(other.Get("default", "after").has_value());
  EXPECT_EQ(log.lines().size(), 5u);
  EXPECT_FALSE(informer.Get("default", "after").has_value());
}

TEST_F(InformerTest, SelectorsLimitTheCache) {
  json labelled = ConfigMap("x", "1");
  labelled["metadata"]["labels"] = {{"app", "x"}};
  ASSERT_TRUE(client()->Create(resources::kConfigMaps, "default", labelled).ok());
  ASSERT_TRUE(client()->Create(resources::kConfigMaps, "default", ConfigMap("y", "1")).ok());
  Informer informer(client(), resources::kConfigMaps, {.label_selector = "app=x"});
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(absl::Seconds(10)));
  EXPECT_EQ(informer.size(), 1u);
  EXPECT_TRUE(informer.Get("default", "x").has_value());
}

TEST(InformerRelistTest, ListsAgainAfter410AndHandsOutTheDifference) {
  // A watch cache of 2 events and a compacted store: once the informer's
  // watch ends, resuming from its version is 410 and it must list again.
  apiserver::ApiServerOptions options;
  options.watch_cache.capacity = 2;
  options.watch_cache.max_pending_per_watcher = 1;  // a burst ends the watch
  LocalApiTestEnv env(options);
  ASSERT_TRUE(env.error().ok()) << env.error();
  ApiClient* client = env.client();
  ASSERT_TRUE(client->Create(resources::kConfigMaps, "default", ConfigMap("a", "1")).ok());
  Informer informer(client, resources::kConfigMaps, {.ns = "default"});
  Log log;
  InformerHandlers handlers = log.Handlers();
  std::mutex block_mu;
  std::condition_variable block_cv;
  bool blocked = true;
  // The first update handler blocks until the burst below is written, so
  // the watcher falls behind and is ended.
  auto update = handlers.on_update;
  handlers.on_update = [&, update](const json& a, const json& b) {
    std::unique_lock<std::mutex> lock(block_mu);
    block_cv.wait_for(lock, std::chrono::seconds(10), [&] { return !blocked; });
    update(a, b);
  };
  informer.AddHandlers(handlers);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(absl::Seconds(10)));
  ASSERT_TRUE(client->Patch(resources::kConfigMaps, "default", "a", PatchType::kMerge, {{"data", {{"v", "2"}}}}).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->Create(resources::kConfigMaps, "default", ConfigMap("m" + std::to_string(i), "1")).ok());
  }
  ASSERT_TRUE(client->Delete(resources::kConfigMaps, "default", "m0").ok());
  auto revision = env.store()->CurrentRevision();
  ASSERT_TRUE(revision.ok());
  ASSERT_TRUE(env.store()->Compact(*revision).ok());
  {
    std::lock_guard<std::mutex> lock(block_mu);
    blocked = false;
    block_cv.notify_all();
  }
  // Eventually the cache holds exactly what the server has: a(2), m1..m19.
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline && informer.size() != 20u) {
    absl::SleepFor(absl::Milliseconds(20));  // polls the test's own condition with a deadline
  }
  EXPECT_EQ(informer.size(), 20u);
  EXPECT_FALSE(informer.Get("default", "m0").has_value());
  ASSERT_TRUE(informer.Get("default", "m19").has_value());
  EXPECT_EQ((*informer.Get("default", "a"))["data"]["v"], "2");
}

}  // namespace
}  // namespace berth::client
