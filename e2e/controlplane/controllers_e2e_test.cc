// The controllers inside berth-controlplane driven by kubectl 1.32: a
// Deployment becomes a ReplicaSet and pods; scale, set image (a rolling
// update), rollout status / history / undo / pause / resume / restart, delete (the garbage collector
// takes the ReplicaSets and pods). No agent runs: the test plays
// the kubelet by writing the pods' status (Running, Ready) itself.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/controlplane/controlplane_process.h"
#include "e2e/controlplane/netns_environment.h"

namespace berth::e2e {
namespace {

using nlohmann::json;

const auto* const kNetns = ::testing::AddGlobalTestEnvironment(new NetnsEnvironment("berth-ctrle2e-"));

class ControllersE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/berth-ctrle2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    auto cp = ControlPlaneProcess::Start({root_, "", {}});
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    auto admin = cp_->Kubeconfig("admin");
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *admin;
  }
  void TearDown() override {
    cp_.reset();
    if (!root_.empty()) (void)RemoveAll(root_);
  }

  std::string Admin(const std::vector<std::string>& args) {
    auto out = Kubectl(admin_, args);
    EXPECT_TRUE(out.ok()) << absl::StrJoin(args, " ") << ": " << out.status() << "\nserver log:\n"
                          << cp_->LogTail();
    return out.value_or("");
  }
  json GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"-o", "json"});
    auto out = Kubectl(admin_, full);
    if (!out.ok()) return json();
    return json::parse(*out, nullptr, false);
  }
  // The kubelet's part: pods not yet Running become Running and Ready.
  void MarkPodsReady() {
    json pods = GetJson({"get", "pods", "-l", "app=web"});
    if (!pods.is_object()) return;
    for (const json& pod : pods["items"]) {
      if (pod["metadata"].contains("deletionTimestamp")) continue;
      if (pod.value("status", json::object()).value("phase", "") == "Running") continue;
      json patch = {{"status",
                     {{"phase", "Running"},
                      {"conditions", json::array({{{"type", "Ready"}, {"status", "True"},
                                                   {"lastTransitionTime",
                                                    absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                                                     absl::UTCTimeZone())}}})}}}};
      (void)Kubectl(admin_, {"patch", "pod", pod["metadata"]["name"], "--subresource=status", "--type=merge", "-p",
                             patch.dump()});
    }
  }
  // Plays the kubelet until `kubectl rollout status` says the rollout is done.
  bool RolledOut(absl::Duration timeout = absl::Seconds(40)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      MarkPodsReady();
      auto out = Kubectl(admin_, {"rollout", "status", "deployment/web", "--timeout=2s"});
      if (out.ok() && absl::StrContains(*out, "successfully rolled out")) return true;
    }
    return false;
  }
  // The web ReplicaSets: name -> {spec.replicas, revision, image}.
  struct Rs {
    int replicas = 0;
    std::string revision, image;
  };
  std::map<std::string, Rs> ReplicaSets() {
    std::map<std::string, Rs> out;
    json list = GetJson({"get", "replicasets", "-l", "app=web"});
    if (!list.is_object()) return out;
    for (const json& rs : list["items"]) {
      out[rs["metadata"]["name"]] = {rs["spec"].value("replicas", 0),
                                     rs["metadata"]["annotations"].value("deployment.kubernetes.io/revision", ""),
                                     rs["spec"]["template"]["spec"]["containers"][0].value("image", "")};
    }
    return out;
  }
  size_t PodCount() {
    json pods = GetJson({"get", "pods", "-l", "app=web"});
    size_t n = 0;
    if (pods.is_object()) {
      for (const json& pod : pods["items"]) n += pod["metadata"].contains("deletionTimestamp") ? 0 : 1;
    }
    return n;
  }
  static bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(30)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return done();
  }

  std::string root_, admin_;
  std::unique_ptr<ControlPlaneProcess> cp_;
};

TEST_F(ControllersE2eTest, DeploymentCreateScaleRollingUpdateAndUndo) {
  Admin({"create", "deployment", "web", "--image=nginx:1", "--replicas=3"});
  ASSERT_TRUE(WaitFor([&] { return PodCount() == 3; })) << cp_->LogTail();
  std::map<std::string, Rs> rss = ReplicaSets();
  ASSERT_EQ(rss.size(), 1u);
  const std::string first = rss.begin()->first;
  EXPECT_EQ(rss[first].revision, "1");
  EXPECT_TRUE(absl::StartsWith(first, "web-"));
  json pod = GetJson({"get", "pods", "-l", "app=web"})["items"][0];
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["name"], first);
  EXPECT_EQ(pod["metadata"]["generateName"], first + "-");
  ASSERT_TRUE(RolledOut()) << GetJson({"get", "deployment", "web"}).dump();

  Admin({"scale", "deployment", "web", "--replicas=5"});
  ASSERT_TRUE(WaitFor([&] { return PodCount() == 5; }));
  ASSERT_TRUE(RolledOut());

  Admin({"set", "image", "deployment/web", "nginx=nginx:2"});
  ASSERT_TRUE(RolledOut()) << GetJson({"get", "deployment", "web"})["status"].dump();
  rss = ReplicaSets();
  ASSERT_EQ(rss.size(), 2u);
  EXPECT_EQ(rss[first].replicas, 0);
  for (const auto& [name, rs] : rss) {
    if (name == first) continue;
    EXPECT_EQ(rs.replicas, 5);
    EXPECT_EQ(rs.revision, "2");
    EXPECT_EQ(rs.image, "nginx:2");
  }
  std::string history = Admin({"rollout", "history", "deployment/web"});
  EXPECT_TRUE(absl::StrContains(history, "1 ")) << history;
  EXPECT_TRUE(absl::StrContains(history, "2 ")) << history;

  Admin({"rollout", "undo", "deployment/web"});
  ASSERT_TRUE(RolledOut());
  rss = ReplicaSets();
  EXPECT_EQ(rss.size(), 2u);
  EXPECT_EQ(rss[first].replicas, 5);
  EXPECT_EQ(rss[first].revision, "3");
  EXPECT_EQ(rss[first].image, "nginx:1");
  json d = GetJson({"get", "deployment", "web"});
  EXPECT_EQ(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
  EXPECT_EQ(d["status"]["availableReplicas"], 5);

  // pause: a new template waits (no ReplicaSet) until resume; restart rolls anew.
  Admin({"rollout", "pause", "deployment/web"});
  Admin({"set", "image", "deployment/web", "nginx=nginx:3"});
  ASSERT_TRUE(WaitFor([&] {
    json paused = GetJson({"get", "deployment", "web"});
    if (!paused.is_object() || paused["status"].value("observedGeneration", 0) !=
                                   paused["metadata"].value("generation", -1)) {
      return false;
    }
    for (const json& c : paused["status"].value("conditions", json::array())) {
      if (c["type"] == "Progressing") return c.value("reason", "") == "DeploymentPaused";
    }
    return false;
  }));
  EXPECT_EQ(ReplicaSets().size(), 2u);
  Admin({"rollout", "resume", "deployment/web"});
  ASSERT_TRUE(RolledOut());
  EXPECT_EQ(ReplicaSets().size(), 3u);
  Admin({"rollout", "restart", "deployment/web"});
  ASSERT_TRUE(RolledOut());
  EXPECT_EQ(ReplicaSets().size(), 4u);

  // The garbage collector takes the ReplicaSets and pods with the Deployment.
  Admin({"delete", "deployment", "web"});
  ASSERT_TRUE(WaitFor([&] { return ReplicaSets().empty() && PodCount() == 0; })) << cp_->LogTail();
}

}  // namespace
}  // namespace berth::e2e
