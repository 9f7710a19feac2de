// agent/cluster against an in-process API server (LocalApiTestEnv: the
// REST path's validation, graceful pod deletion and watches, no HTTPS):
// the Node and its fields, the Lease renewed, pods bound to the node fed to
// the Kubelet's source, statuses patched only when they change, a deleted
// pod finished once the agent killed it. Plus the pure pieces.
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "agent/cluster/api_pod_source.h"
#include "agent/cluster/cluster_member.h"
#include "agent/cluster/node_lease.h"
#include "agent/cluster/node_status.h"
#include "agent/cluster/pod_status_reporter.h"
#include "controlplane/client/local_api_test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent::cluster {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

NodeFacts Facts() {
  NodeFacts f;
  f.node_name = "n1";
  f.hostname = "host1";
  f.internal_ip = "10.0.0.5";
  f.arch = "amd64";
  f.capacity = {{"cpu", "4"}, {"memory", "8000000Ki"}, {"pods", "110"}, {"ephemeral-storage", "1000Ki"},
                {"nvidia.com/gpu", "2"}};
  f.allocatable = f.capacity;
  f.allocatable["nvidia.com/gpu"] = "1";
  f.container_runtime_version = "berth://0.1.0";
  f.kubelet_version = "v1.32.0-berth";
  return f;
}

TEST(NodeStatusTest, TheNodeAsTheKubeletRegistersIt) {
  absl::Time now = absl::FromUnixSeconds(1800000000);
  nlohmann::json node = NodeObject(Facts(), now);
  EXPECT_EQ(node["metadata"]["name"], "n1");
  EXPECT_EQ(node["metadata"]["labels"]["kubernetes.io/hostname"], "n1");
  EXPECT_EQ(node["metadata"]["labels"]["kubernetes.io/os"], "linux");
  EXPECT_EQ(node["metadata"]["labels"]["kubernetes.io/arch"], "amd64");
  const nlohmann::json& status = node["status"];
  EXPECT_EQ(status["capacity"]["nvidia.com/gpu"], "2");
  EXPECT_EQ(status["allocatable"]["nvidia.com/gpu"], "1");
  EXPECT_EQ(status["allocatable"]["pods"], "110");
  EXPECT_EQ(status["addresses"][0], (nlohmann::json{{"type", "InternalIP"}, {"address", "10.0.0.5"}}));
  EXPECT_EQ(status["addresses"][1], (nlohmann::json{{"type", "Hostname"}, {"address", "host1"}}));
  EXPECT_EQ(status["nodeInfo"]["containerRuntimeVersion"], "berth://0.1.0");
  EXPECT_EQ(status["nodeInfo"]["kubeletVersion"], "v1.32.0-berth");
  std::vector<std::string> types;
  for (const auto& c : status["conditions"]) types.push_back(c["type"]);
  EXPECT_THAT(types, ElementsAre("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"));
  EXPECT_EQ(status["conditions"][3]["status"], "True");
  EXPECT_EQ(status["conditions"][3]["reason"], "KubeletReady");
  EXPECT_EQ(status["conditions"][3]["lastHeartbeatTime"], "2027-01-15T08:00:00Z");
}

TEST(NodeStatusTest, TransitionTimesKeptAndHeartbeatsAloneAreNoChange) {
  absl::Time t0 = absl::FromUnixSeconds(1800000000);
  nlohmann::json first = NodeStatus(Facts(), t0, nullptr);
  nlohmann::json later = NodeStatus(Facts(), t0 + absl::Seconds(10), first);
  EXPECT_EQ(later["conditions"][3]["lastTransitionTime"], first["conditions"][3]["lastTransitionTime"]);
  EXPECT_NE(later["conditions"][3]["lastHeartbeatTime"], first["conditions"][3]["lastHeartbeatTime"]);
  EXPECT_FALSE(NodeStatusChanged(first, later));
  NodeFacts not_ready = Facts();
  not_ready.ready = false;
  nlohmann::json down = NodeStatus(not_ready, t0 + absl::Seconds(20), later);
  EXPECT_EQ(down["conditions"][3]["status"], "False");
  EXPECT_EQ(down["conditions"][3]["lastTransitionTime"], ApiTime(t0 + absl::Seconds(20)));
  EXPECT_TRUE(NodeStatusChanged(later, down));
}

TEST(NodeStatusTest, ReadsTheHost) {
  NodeFactsSource source{.node_name = "n1", .node_ip = "192.0.2.7", .state_dir = "/tmp", .max_pods = 7};
  source.extended["example.com/dev"] = {3, 2};
  source.runtime_version = "berth://0.1.0";
  NodeFacts f = ReadNodeFacts(source);
  EXPECT_EQ(f.internal_ip, "192.0.2.7");
  EXPECT_EQ(f.capacity["pods"], "7");
  EXPECT_EQ(f.capacity["example.com/dev"], "3");
  EXPECT_EQ(f.allocatable["example.com/dev"], "2");
  EXPECT_THAT(f.capacity["memory"], HasSubstr("Ki"));
  EXPECT_THAT(f.capacity["ephemeral-storage"], HasSubstr("Ki"));
  EXPECT_FALSE(f.kernel_version.empty());
  EXPECT_FALSE(f.arch.empty());
}

TEST(MergePatchTest, OnlyWhatChanged) {
  nlohmann::json from = {{"phase", "Pending"}, {"podIP", "10.1.0.2"}, {"gone", 1}, {"nested", {{"a", 1}, {"b", 2}}}};
  nlohmann::json to = {{"phase", "Running"}, {"podIP", "10.1.0.2"}, {"nested", {{"a", 1}, {"b", 3}}}, {"new", "x"}};
  EXPECT_EQ(CreateMergePatch(from, to),
            (nlohmann::json{{"phase", "Running"}, {"gone", nullptr}, {"nested", {{"b", 3}}}, {"new", "x"}}));
  EXPECT_TRUE(CreateMergePatch(to, to).empty());
}

TEST(NodeLeaseTest, TheLeaseAsTheKubeletWritesIt) {
  nlohmann::json lease = NodeLease("n1", "uid-1", absl::FromUnixMicros(1800000000123456));
  EXPECT_EQ(lease["metadata"]["namespace"], "kube-node-lease");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "n1");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 40);
  EXPECT_EQ(lease["spec"]["renewTime"], "2027-01-15T08:00:00.123456Z");
  EXPECT_EQ(lease["metadata"]["ownerReferences"][0]["uid"], "uid-1");
}

nlohmann::json TestPod(const std::string& name, const std::string& node) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"nodeName", node},
            {"terminationGracePeriodSeconds", 5},
            {"containers", {{{"name", "c"}, {"image", "busybox"}, {"command", {"sleep", "1000"}}}}}}}};
}

class ClusterMemberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.error().ok()) << env_.error();
    api_ = std::shared_ptr<client::ApiClient>(env_.client(), [](client::ApiClient*) {});
  }

  std::unique_ptr<ClusterMember> Start(ClusterMemberOptions options) {
    options.node_name = "n1";
    options.state_dir = "/tmp";
    options.runtime_version = "berth://0.1.0";
    options.set_pods = [this](std::vector<k8s::Pod> pods) {
      std::lock_guard<std::mutex> lock(mu_);
      pods_ = std::move(pods);
      ++sets_;
      cv_.notify_all();
    };
    auto member = std::make_unique<ClusterMember>(api_, std::move(options));
    EXPECT_TRUE(member->Start().ok());
    return member;
  }

  // Waits until `pred` holds for the pods the Kubelet was given.
  bool WaitForPods(const std::function<bool(const std::vector<k8s::Pod>&)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return sets_ > 0 && pred(pods_); });
  }

  // Polls the API with a deadline for `pred` of Get(ref, ns, name).
  bool WaitForObject(const client::ResourceRef& ref, const std::string& ns, const std::string& name,
                     const std::function<bool(const absl::StatusOr<nlohmann::json>&)>& pred) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (pred(api_->Get(ref, ns, name))) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  client::LocalApiTestEnv env_;
  std::shared_ptr<client::ApiClient> api_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<k8s::Pod> pods_;
  int sets_ = 0;
};

TEST_F(ClusterMemberTest, RegistersTheNodeAndRenewsItsLease) {
  auto member = Start({.lease_renew_interval = absl::Milliseconds(200)});
  ASSERT_TRUE(WaitForObject(client::resources::kNodes, "", "n1", [](const auto& node) {
    return node.ok() && node->contains("status") && (*node)["status"].contains("conditions");
  }));
  auto node = api_->Get(client::resources::kNodes, "", "n1");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)["metadata"]["labels"]["kubernetes.io/hostname"], "n1");
  EXPECT_EQ((*node)["status"]["nodeInfo"]["containerRuntimeVersion"], "berth://0.1.0");
  EXPECT_EQ((*node)["status"]["conditions"][3]["type"], "Ready");
  EXPECT_EQ((*node)["status"]["conditions"][3]["status"], "True");
  EXPECT_TRUE((*node)["status"]["capacity"].contains("ephemeral-storage"));

  nlohmann::json lease;
  ASSERT_TRUE(WaitForObject(client::resources::kLeases, kNodeLeaseNamespace, "n1", [&](const auto& l) {
    if (l.ok()) lease = *l;
    return l.ok();
  }));
  EXPECT_EQ(lease["spec"]["holderIdentity"], "n1");
  EXPECT_EQ(lease["metadata"]["ownerReferences"][0]["uid"], (*node)["metadata"]["uid"]);
  std::string first = lease["spec"]["renewTime"];
  EXPECT_TRUE(WaitForObject(client::resources::kLeases, kNodeLeaseNamespace, "n1", [&](const auto& l) {
    return l.ok() && (*l)["spec"].value("renewTime", "") != first;
  }));
  member->Stop();

  // A restarted agent takes its existing Node over.
  auto again = Start({});
  EXPECT_TRUE(WaitForObject(client::resources::kLeases, kNodeLeaseNamespace, "n1", [&](const auto& l) {
    return l.ok() && (*l)["spec"].value("renewTime", "") != first;
  }));
  auto nodes = api_->List(client::resources::kNodes, "");
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ((*nodes)["items"].size(), 1u);
}

TEST_F(ClusterMemberTest, RunsItsPodsReportsStatusAndFinishesDeletion) {
  auto member = Start({});
  ASSERT_TRUE(api_->Create(client::resources::kPods, "default", TestPod("mine", "n1")).ok());
  ASSERT_TRUE(api_->Create(client::resources::kPods, "default", TestPod("theirs", "n2")).ok());
  ASSERT_TRUE(WaitForPods([](const auto& pods) { return pods.size() == 1; }));
  k8s::Pod pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pods_[0];
  }
  EXPECT_EQ(pod.metadata.name, "mine");
  EXPECT_EQ(pod.metadata.annotations["kubernetes.io/config.source"], "api");

  k8s::PodStatus status;
  status.phase = "Running";
  status.podIP = "10.88.0.9";
  k8s::ContainerStatus cs;
  cs.name = "c";
  cs.ready = true;
  cs.image = "busybox";
  status.containerStatuses.push_back(cs);
  member->PodSynced(pod, absl::Now(), nullptr, status, absl::ZeroDuration());
  ASSERT_TRUE(WaitForObject(client::resources::kPods, "default", "mine", [](const auto& p) {
    return p.ok() && (*p)["status"].value("phase", "") == "Running";
  }));
  auto reported = api_->Get(client::resources::kPods, "default", "mine");
  EXPECT_EQ((*reported)["status"]["podIP"], "10.88.0.9");
  EXPECT_EQ((*reported)["status"]["containerStatuses"][0]["name"], "c");
  std::string rv = (*reported)["metadata"]["resourceVersion"];
  // The same status again: no write.
  member->PodSynced(pod, absl::Now(), nullptr, status, absl::ZeroDuration());
  absl::SleepFor(absl::Milliseconds(300));  // (nothing to wait for: proving an absence)
  EXPECT_EQ((*api_->Get(client::resources::kPods, "default", "mine"))["metadata"]["resourceVersion"], rv);

  // A graceful delete takes it off the Kubelet's set; once killed, it goes from the API.
  ASSERT_TRUE(api_->Delete(client::resources::kPods, "default", "mine").ok());
  ASSERT_TRUE(WaitForPods([](const auto& pods) { return pods.empty(); }));
  EXPECT_TRUE(api_->Get(client::resources::kPods, "default", "mine").ok());  // still there, terminating
  member->PodKilled(pod.metadata.uid);
  EXPECT_TRUE(WaitForObject(client::resources::kPods, "default", "mine",
                            [](const auto& p) { return absl::IsNotFound(p.status()); }));
}

TEST(ApiPodSourceTest, PodFromApiIsMarkedAndBadPodsAreNamed) {
  auto pod = ApiPodSource::PodFromApi(TestPod("p", "n1"));
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(pod->metadata.annotations["kubernetes.io/config.source"], "api");
  EXPECT_EQ(pod->spec.nodeName, "n1");
  // A new version that only changed the status is the same pod for the Kubelet.
  nlohmann::json reported = TestPod("p", "n1");
  reported["metadata"]["resourceVersion"] = "42";
  reported["status"] = {{"phase", "Running"}};
  auto again = ApiPodSource::PodFromApi(reported);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *pod);
  nlohmann::json bad = TestPod("p", "n1");
  bad["spec"]["containers"] = "not a list";
  auto refused = ApiPodSource::PodFromApi(bad);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("default/p"));
}

}  // namespace
}  // namespace berth::agent::cluster
