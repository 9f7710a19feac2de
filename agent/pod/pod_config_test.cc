#include "agent/pod/pod_config.h"

#include "agent/pod/labels.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

k8s::Pod Pod(const std::string& name, const std::string& uid) {
  k8s::Pod p;
  p.metadata.name = name;
  p.metadata.namespace_ = "default";
  p.metadata.uid = uid;
  return p;
}

TEST(PodConfigTest, SetsBecomeAddUpdateRemove) {
  std::vector<PodUpdate> got;
  PodConfig config([&](const std::vector<PodUpdate>& u) { got.insert(got.end(), u.begin(), u.end()); });
  config.Set("file", {Pod("a", "1"), Pod("b", "2")});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].op, PodOp::kAdd);
  EXPECT_TRUE(got[0].pod.metadata.annotations.count(kConfigSeenAnnotation));
  got.clear();
  config.Set("file", {Pod("a", "1"), Pod("b", "2")});
  EXPECT_TRUE(got.empty()) << "nothing changed";
  auto b = Pod("b", "2");
  b.metadata.labels["x"] = "y";
  config.Set("file", {b, Pod("c", "3")});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].op, PodOp::kUpdate);
  EXPECT_EQ(got[0].pod.metadata.uid, "2");
  EXPECT_EQ(got[1].op, PodOp::kAdd);
  EXPECT_EQ(got[2].op, PodOp::kRemove);
  EXPECT_EQ(got[2].pod.metadata.uid, "1");
}

TEST(PodConfigTest, FirstSourceWinsADuplicateName) {
  std::vector<PodUpdate> got;
  std::vector<std::string> dups;
  PodConfig config([&](const std::vector<PodUpdate>& u) { got.insert(got.end(), u.begin(), u.end()); },
                   [&](const std::string& source, const k8s::Pod& pod, const std::string& other) {
                     dups.push_back(source + ":" + pod.metadata.name + ":" + other);
                   });
  config.Set("file", {Pod("a", "1")});
  config.Set("api", {Pod("a", "9"), Pod("z", "8")});
  ASSERT_EQ(dups.size(), 1u);
  EXPECT_EQ(dups[0], "api:a:file");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].pod.metadata.uid, "8");
}

}  // namespace
}  // namespace berth::agent
