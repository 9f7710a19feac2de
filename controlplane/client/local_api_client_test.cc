#include "controlplane/client/local_api_client.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "controlplane/client/local_api_test_env.h"

namespace berth::client {
namespace {

using nlohmann::json;

json Pod(const std::string& name, const std::string& ns = "default") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
}

// Collects a watch's events and its end, thread-safely.
class Recorder {
 public:
  WatchHandler OnEvent() {
    return [this](WatchEvent e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(e));
      cv_.notify_all();
    };
  }
  WatchEndHandler OnEnd() {
    return [this](absl::Status s) {
      std::lock_guard<std::mutex> lock(mu_);
      end_ = std::move(s);
      ended_ = true;
      cv_.notify_all();
    };
  }
  bool WaitEvents(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return events_.size() >= n; });
  }
  bool WaitEnd() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return ended_; });
  }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  absl::Status end() {
    std::lock_guard<std::mutex> lock(mu_);
    return end_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
  absl::Status end_;
  bool ended_ = false;
};

class LocalApiClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.error().ok()) << env_.error(); }
  LocalApiClient* client() { return env_.client(); }
  LocalApiTestEnv env_;
};

TEST_F(LocalApiClientTest, CreateGetListUpdatePatchDeleteAsTheRestApi) {
  auto created = client()->Create(resources::kPods, "default", Pod("a"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE((*created)["metadata"].value("uid", "").empty());
  EXPECT_EQ((*created)["spec"].value("restartPolicy", ""), "Always");  // defaulted as on the REST path

  auto again = client()->Create(resources::kPods, "default", Pod("a"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();

  auto got = client()->Get(resources::kPods, "default", "a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)["metadata"]["uid"], (*created)["metadata"]["uid"]);

  ASSERT_TRUE(client()->Create(resources::kPods, "default", Pod("b")).ok());
  ListOptions by_label;
  by_label.label_selector = "app in (web)";
  auto list = client()->List(resources::kPods, "default", by_label);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ((*list)["items"].size(), 2u);
  EXPECT_FALSE((*list)["metadata"].value("resourceVersion", "").empty());

  // A stale resourceVersion is a conflict (Aborted); the current one writes.
  json stale = *got;
  stale["metadata"]["labels"]["tier"] = "x";
  ASSERT_TRUE(client()->Update(resources::kPods, "default", stale).ok());
  auto conflict = client()->Update(resources::kPods, "default", stale);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAborted) << conflict.status();

  auto patched = client()->Patch(resources::kPods, "default", "a", PatchType::kMerge,
                                 {{"metadata", {{"labels", {{"tier", "y"}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["metadata"]["labels"]["tier"], "y");

  auto status = client()->Patch(resources::kPods, "default", "a", PatchType::kMerge,
                                {{"status", {{"phase", "Running"}}}}, "status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ((*status)["status"]["phase"], "Running");

  auto deleted = client()->Delete(resources::kPods, "default", "b");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(client()->Get(resources::kPods, "default", "b").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LocalApiClientTest, ValidationAndNamespaceAdmissionAsTheRestApi) {
  json bad = Pod("c");
  bad["spec"]["containers"] = json::array();
  auto invalid = client()->Create(resources::kPods, "default", bad);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument) << invalid.status();

  auto missing_ns = client()->Create(resources::kPods, "nowhere", Pod("c", "nowhere"));
  EXPECT_EQ(missing_ns.status().code(), absl::StatusCode::kNotFound) << missing_ns.status();
  EXPECT_NE(missing_ns.status().message().find("nowhere"), absl::string_view::npos) << missing_ns.status();

  ListOptions bad_selector;
  bad_selector.field_selector = "spec.nope=1";
  EXPECT_EQ(client()->List(resources::kPods, "", bad_selector).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LocalApiClientTest, BindingSubresourceAssignsTheNodeOnce) {
  ASSERT_TRUE(client()->Create(resources::kPods, "default", Pod("p")).ok());
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", "p"}, {"namespace", "default"}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "node-1"}}}};
  auto bound = client()->CreateSubresource(resources::kPods, "default", "p", "binding", binding);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ((*bound).value("status", ""), "Success");
  auto pod = client()->Get(resources::kPods, "default", "p");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["spec"]["nodeName"], "node-1");
  bool scheduled = false;
  for (const auto& c : (*pod)["status"]["conditions"]) {
    scheduled |= c.value("type", "") == "PodScheduled" && c.value("status", "") == "True";
  }
  EXPECT_TRUE(scheduled) << pod->dump();

  binding["target"]["name"] = "node-2";
  auto twice = client()->CreateSubresource(resources::kPods, "default", "p", "binding", binding);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kAborted) << twice.status();
  EXPECT_NE(twice.status().message().find("already assigned"), absl::string_view::npos) << twice.status();
}

TEST_F(LocalApiClientTest, WatchFromAListDeliversChangesInOrderAndNothingAfterStop) {
  auto list = client()->List(resources::kPods, "default", {});
  ASSERT_TRUE(list.ok());
  ListOptions from;
  from.resource_version = (*list)["metadata"].value("resourceVersion", "");
  Recorder recorder;
  auto watch = client()->Watch(resources::kPods, "default", from, recorder.OnEvent(), recorder.OnEnd());
  ASSERT_TRUE(watch.ok()) << watch.status();

  ASSERT_TRUE(client()->Create(resources::kPods, "default", Pod("w")).ok());
  ASSERT_TRUE(client()->Patch(resources::kPods, "default", "w", PatchType::kMerge,
                              {{"metadata", {{"labels", {{"v", "2"}}}}}}).ok());
  ASSERT_TRUE(client()->Delete(resources::kPods, "default", "w").ok());
  ASSERT_TRUE(recorder.WaitEvents(3));
  auto events = recorder.events();
  EXPECT_EQ(events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(events[1].object["metadata"]["labels"]["v"], "2");
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(events[2].object["metadata"]["name"], "w");

  (*watch)->Stop();
  ASSERT_TRUE(client()->Create(resources::kPods, "default", Pod("after")).ok());
  // The next watch sees the pod made after the stop; the stopped one must not.
  Recorder second;
  ListOptions now;
  now.resource_version = from.resource_version;
  auto watch2 = client()->Watch(resources::kPods, "default", now, second.OnEvent(), second.OnEnd());
  ASSERT_TRUE(watch2.ok());
  ASSERT_TRUE(second.WaitEvents(4));
  EXPECT_EQ(recorder.events().size(), 3u);
}

TEST_F(LocalApiClientTest, WatchWithABadSelectorFailsAtOnce) {
  Recorder recorder;
  ListOptions bad;
  bad.label_selector = "a in (";
  auto watch = client()->Watch(resources::kPods, "", bad, recorder.OnEvent(), recorder.OnEnd());
  EXPECT_EQ(watch.status().code(), absl::StatusCode::kInvalidArgument) << watch.status();
}

apiserver::ApiServerOptions SmallWatchWindow() {
  apiserver::ApiServerOptions options;
  options.watch_cache.capacity = 2;
  return options;
}

TEST(LocalApiClientWindowTest, WatchFromACompactedVersionEndsWithOutOfRange) {
  LocalApiTestEnv env_(SmallWatchWindow());
  ASSERT_TRUE(env_.error().ok()) << env_.error();
  LocalApiClient* client = env_.client();
  ASSERT_TRUE(client->Create(resources::kPods, "default", Pod("old")).ok());
  auto first = client->Get(resources::kPods, "default", "old");
  ASSERT_TRUE(first.ok());
  int64_t old_rv = std::stoll((*first)["metadata"].value("resourceVersion", "0"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->Patch(resources::kPods, "default", "old", PatchType::kMerge,
                                {{"metadata", {{"labels", {{"n", std::to_string(i)}}}}}}).ok());
  }
  auto revision = env_.store()->CurrentRevision();
  ASSERT_TRUE(revision.ok());
  ASSERT_TRUE(env_.store()->Compact(*revision).ok());
  // Older than both the watch cache's window (2 events) and the store.
  Recorder recorder;
  ListOptions from;
  from.resource_version = std::to_string(old_rv - 1 > 0 ? old_rv - 1 : 1);
  auto watch = client->Watch(resources::kPods, "default", from, recorder.OnEvent(), recorder.OnEnd());
  if (watch.ok()) {
    ASSERT_TRUE(recorder.WaitEnd());
    EXPECT_EQ(recorder.end().code(), absl::StatusCode::kOutOfRange) << recorder.end();
  } else {
    EXPECT_EQ(watch.status().code(), absl::StatusCode::kOutOfRange) << watch.status();
  }
}

TEST_F(LocalApiClientTest, ClusterScopedObjectsIgnoreTheNamespace) {
  json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}};
  auto created = client()->Create(resources::kNodes, "", node);
  ASSERT_TRUE(created.ok()) << created.status();
  auto got = client()->Get(resources::kNodes, "", "n1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)["metadata"]["name"], "n1");
}

TEST(ListQueryStringTest, EncodesSelectorsAndWatchOptions) {
  ListOptions options;
  options.label_selector = "app in (a,b)";
  options.resource_version = "12";
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = 5;
  EXPECT_EQ(ListQueryString(options, true),
            "watch=1&labelSelector=app%20in%20%28a%2Cb%29&resourceVersion=12&allowWatchBookmarks=true&"
            "timeoutSeconds=5");
  EXPECT_EQ(ListQueryString(options, false), "labelSelector=app%20in%20%28a%2Cb%29&resourceVersion=12");
}

}  // namespace
}  // namespace berth::client
