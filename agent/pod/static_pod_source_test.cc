#include "agent/pod/static_pod_source.h"

#include <stdlib.h>

#include <condition_variable>
#include <mutex>

#include "agent/pod/labels.h"
#include "api/k8s/static_pod.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::HasSubstr;

constexpr char kPod[] = R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: app, image: busybox}]
)";

class StaticPodSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-static-pods-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/manifests";
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/" + name, text).ok());
  }

  std::string root_, dir_;
};

TEST_F(StaticPodSourceTest, PodsGetTheKubeletsIdentity) {
  ASSERT_TRUE(MkdirAll(dir_).ok());
  Write("web.yaml", kPod);
  std::vector<std::pair<std::string, std::string>> errors;
  StaticPodSource source(dir_, "node1", absl::Seconds(20), [](auto) {},
                         [&](const std::string& f, const std::string& m) { errors.emplace_back(f, m); });
  auto pods = source.Scan();
  ASSERT_EQ(pods.size(), 1u) << (errors.empty() ? "" : errors[0].second);
  const auto& pod = pods[0];
  EXPECT_EQ(pod.metadata.name, "web-node1");
  EXPECT_EQ(pod.metadata.namespace_, "default");
  EXPECT_EQ(pod.spec.nodeName, "node1");
  EXPECT_EQ(pod.metadata.uid.size(), 32u);
  EXPECT_EQ(pod.metadata.annotations.at(kConfigHashAnnotation), pod.metadata.uid);
  EXPECT_EQ(pod.metadata.annotations.at(kConfigSourceAnnotation), "file");
  EXPECT_EQ(pod.spec.restartPolicy, "Always") << "defaulted";
  EXPECT_TRUE(errors.empty());
  // The same content gives the same UID; another content another.
  EXPECT_EQ(source.Scan()[0].metadata.uid, pod.metadata.uid);
  Write("web.yaml", std::string(kPod) + "  restartPolicy: Never\n");
  EXPECT_NE(source.Scan()[0].metadata.uid, pod.metadata.uid);
}

TEST_F(StaticPodSourceTest, BadFilesAreReportedAndOthersKept) {
  ASSERT_TRUE(MkdirAll(dir_).ok());
  Write("a.yaml", kPod);
  Write("b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: App, image: x}]\n");
  Write("c.yaml", kPod);  // the same name as a.yaml
  Write("d.json", "{not json");
  Write(".hidden.yaml", "garbage: [");
  std::map<std::string, std::string> errors;
  StaticPodSource source(dir_, "n", absl::Seconds(20), [](auto) {},
                         [&](const std::string& f, const std::string& m) { errors[f] = m; });
  auto pods = source.Scan();
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].metadata.name, "web-n");
  EXPECT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[dir_ + "/b.yaml"], HasSubstr("spec.containers[0].name: Invalid value: \"App\""));
  EXPECT_THAT(errors[dir_ + "/c.yaml"], HasSubstr("Duplicate value: \"web-n\""));
  EXPECT_FALSE(errors[dir_ + "/d.json"].empty());
  // Reported once, and cleared when fixed.
  errors.clear();
  source.Scan();
  EXPECT_TRUE(errors.empty());
  Write("b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  containers: [{name: app, image: x}]\n");
  EXPECT_EQ(source.Scan().size(), 2u);
  ASSERT_TRUE(errors.count(dir_ + "/b.yaml"));
  EXPECT_EQ(errors[dir_ + "/b.yaml"], "");
}

TEST_F(StaticPodSourceTest, MultiDocumentFiles) {
  ASSERT_TRUE(MkdirAll(dir_).ok());
  Write("two.yaml", std::string(kPod) + "---\n" + "apiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec:\n  containers: [{name: db, image: busybox}]\n");
  StaticPodSource source(dir_, "n", absl::Seconds(20), [](auto) {}, [](auto, auto) {});
  EXPECT_EQ(source.Scan().size(), 2u);
}

TEST_F(StaticPodSourceTest, WatchesAMissingDirectoryUntilItAppears) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<size_t> sizes;
  StaticPodSource source(dir_, "n", absl::Seconds(60),
                         [&](std::vector<k8s::Pod> pods) {
                           std::lock_guard<std::mutex> lock(mu);
                           sizes.push_back(pods.size());
                           cv.notify_all();
                         },
                         [](auto, auto) {});
  ASSERT_TRUE(source.Start().ok());
  auto wait_for = [&](size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return !sizes.empty() && sizes.back() == n; });
  };
  EXPECT_TRUE(wait_for(0));
  ASSERT_TRUE(MkdirAll(dir_).ok());
  Write("web.yaml", kPod);  // inotify, not the 60 s rescan
  EXPECT_TRUE(wait_for(1));
  ASSERT_EQ(unlink((dir_ + "/web.yaml").c_str()), 0);
  EXPECT_TRUE(wait_for(0));
  source.Stop();
}

}  // namespace
}  // namespace berth::agent
