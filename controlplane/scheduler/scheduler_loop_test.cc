#include "controlplane/scheduler/scheduler_loop.h"

#include <gtest/gtest.h>

#include "controlplane/client/local_api_test_env.h"
#include "controlplane/scheduler/test_objects.h"

namespace berth::scheduler {
namespace {

using client::resources::kEvents;
using client::resources::kNodes;
using client::resources::kPods;
using nlohmann::json;
using testing::MakeNode;
using testing::MakePod;

// Polls the test's own condition with a deadline.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(15)) {
  absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

SchedulerLoopOptions Fast(const std::string& identity) {
  SchedulerLoopOptions o;
  o.election.identity = identity;
  o.election.lease_duration = absl::Milliseconds(1500);
  o.election.renew_deadline = absl::Seconds(1);
  o.election.retry_period = absl::Milliseconds(100);
  o.bind_workers = 2;
  return o;
}

class SchedulerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.error().ok()) << env_.error(); }
  client::ApiClient* api() { return env_.client(); }

  void CreateNode(const std::string& name, const std::string& cpu, json labels = json::object()) {
    json node = MakeNode(name, cpu, "8Gi", 110, std::move(labels));
    auto created = api()->Create(kNodes, "", node);
    ASSERT_TRUE(created.ok()) << created.status();
    if (!(*created)["status"].contains("allocatable")) {  // the status goes in through /status
      json with_status = *created;
      with_status["status"] = node["status"];
      ASSERT_TRUE(api()->Update(kNodes, "", with_status, "status").ok());
    }
  }
  void CreatePod(const std::string& name, const std::string& cpu, json extra_spec = json::object()) {
    json pod = MakePod(name, {{"cpu", cpu}});
    pod["metadata"].erase("uid");
    pod.erase("status");
    pod["spec"].update(extra_spec);
    auto created = api()->Create(kPods, "default", pod);
    ASSERT_TRUE(created.ok()) << created.status();
  }
  std::string NodeOf(const std::string& pod) {
    auto got = api()->Get(kPods, "default", pod);
    if (!got.ok()) return "";
    return (*got)["spec"].value("nodeName", "");
  }
  json EventsFor(const std::string& pod) {
    client::ListOptions options;
    options.field_selector = "involvedObject.name=" + pod;
    auto list = api()->List(kEvents, "default", options);
    if (!list.ok()) {  // the field may not be served as a selector: filter here
      list = api()->List(kEvents, "default", {});
      if (!list.ok()) return json::array();
    }
    json out = json::array();
    for (const auto& e : (*list)["items"]) {
      if (e["involvedObject"].value("name", "") == pod) out.push_back(e);
    }
    return out;
  }

  client::LocalApiTestEnv env_;
};

TEST_F(SchedulerLoopTest, BindsBackToBackPodsSeeingEachOtherAndRetriesWhenANodeComes) {
  CreateNode("n1", "1");
  CreateNode("n2", "1");
  CreateNode("n3", "1", {{"disk", "ssd"}});
  auto loop = SchedulerLoop::Create(api(), Fast("a"));
  ASSERT_TRUE(loop.ok()) << loop.status();
  (*loop)->Start();
  // Three pods of 800m on three 1-cpu nodes: each must land on its own node,
  // which it can only if the cycle counts the pods assumed before it.
  for (int i = 0; i < 3; ++i) CreatePod("p" + std::to_string(i), "800m");
  ASSERT_TRUE(WaitUntil([&] { return !NodeOf("p0").empty() && !NodeOf("p1").empty() && !NodeOf("p2").empty(); }));
  std::set<std::string> used = {NodeOf("p0"), NodeOf("p1"), NodeOf("p2")};
  EXPECT_EQ(used.size(), 3u);
  auto bound = api()->Get(kPods, "default", "p0");
  ASSERT_TRUE(bound.ok());
  bool scheduled = false;
  for (const auto& c : (*bound)["status"]["conditions"]) {
    scheduled |= c.value("type", "") == "PodScheduled" && c.value("status", "") == "True";
  }
  EXPECT_TRUE(scheduled);

  // A fourth that needs ssd and 800m: one node has the label but no room.
  CreatePod("big", "800m", {{"nodeSelector", {{"disk", "ssd"}}}});
  json events;
  ASSERT_TRUE(WaitUntil([&] { return !(events = EventsFor("big")).empty(); }));
  EXPECT_EQ(events[0].value("reason", ""), "FailedScheduling");
  EXPECT_EQ(events[0].value("type", ""), "Warning");
  EXPECT_EQ(events[0].value("message", ""),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.");
  json condition;
  ASSERT_TRUE(WaitUntil([&] {
    auto pod = api()->Get(kPods, "default", "big");
    if (!pod.ok() || !(*pod)["status"].contains("conditions")) return false;
    for (const auto& c : (*pod)["status"]["conditions"]) {
      if (c.value("type", "") == "PodScheduled") condition = c;
    }
    return !condition.is_null();
  }));
  EXPECT_EQ(condition.value("status", ""), "False");
  EXPECT_EQ(condition.value("reason", ""), "Unschedulable");
  EXPECT_EQ(NodeOf("big"), "");
  EXPECT_GE((*loop)->stats().unschedulable, 1);

  // A new node that fits: the waiting pod is tried again and lands there.
  CreateNode("n4", "2", {{"disk", "ssd"}});
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("big") == "n4"; }));
  EXPECT_TRUE(WaitUntil([&] { return (*loop)->stats().scheduled == 4; })) << (*loop)->stats().scheduled;
  EXPECT_EQ((*loop)->stats().bind_failures, 0);
  EXPECT_EQ(EventsFor("big").size(), 1u);
  (*loop)->Stop();
}

TEST_F(SchedulerLoopTest, RetriesWhenABoundPodGoes) {
  CreateNode("n1", "1");
  auto loop = SchedulerLoop::Create(api(), Fast("a"));
  ASSERT_TRUE(loop.ok());
  (*loop)->Start();
  CreatePod("first", "800m");
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("first") == "n1"; }));
  CreatePod("second", "800m");
  ASSERT_TRUE(WaitUntil([&] { return !EventsFor("second").empty(); }));
  EXPECT_EQ(EventsFor("second")[0].value("message", ""), "0/1 nodes are available: 1 Insufficient cpu.");
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(api()->Delete(kPods, "default", "first", now).ok());
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("second") == "n1"; }));
}

TEST_F(SchedulerLoopTest, ANodeChangeThatCannotHelpRetriesNothing) {
  CreateNode("n1", "1");
  auto loop = SchedulerLoop::Create(api(), Fast("a"));
  ASSERT_TRUE(loop.ok());
  (*loop)->Start();
  CreatePod("big", "2");
  ASSERT_TRUE(WaitUntil([&] { return (*loop)->stats().unschedulable == 1; }));
  // An annotation (as a heartbeat would) changes nothing the filters read;
  // a label does. The node informer hands both over in this order.
  ASSERT_TRUE(api()->Patch(kNodes, "", "n1", client::PatchType::kMerge,
                           {{"metadata", {{"annotations", {{"beat", "1"}}}}}}).ok());
  ASSERT_TRUE(api()->Patch(kNodes, "", "n1", client::PatchType::kMerge,
                           {{"metadata", {{"labels", {{"tier", "a"}}}}}}).ok());
  ASSERT_TRUE(WaitUntil([&] { return (*loop)->stats().unschedulable >= 2 && (*loop)->queued_pods() == 0; }));
  EXPECT_EQ((*loop)->stats().unschedulable, 2);
  EXPECT_EQ(NodeOf("big"), "");
}

TEST_F(SchedulerLoopTest, LeavesOtherSchedulersPodsAlone) {
  CreateNode("n1", "4");
  auto loop = SchedulerLoop::Create(api(), Fast("a"));
  ASSERT_TRUE(loop.ok());
  (*loop)->Start();
  CreatePod("theirs", "100m", {{"schedulerName", "my-scheduler"}});
  CreatePod("ours", "100m", {{"schedulerName", "default-scheduler"}});
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("ours") == "n1"; }));
  // "theirs" came before "ours" and is still unbound, with no event.
  EXPECT_EQ(NodeOf("theirs"), "");
  EXPECT_TRUE(EventsFor("theirs").empty());
  EXPECT_EQ((*loop)->queued_pods() + (*loop)->unschedulable_pods(), 0u);
}

TEST_F(SchedulerLoopTest, OnlyTheLeaderBindsAndTheOtherTakesOver) {
  CreateNode("n1", "4");
  auto a = SchedulerLoop::Create(api(), Fast("a"));
  auto b = SchedulerLoop::Create(api(), Fast("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->Start();
  ASSERT_TRUE(WaitUntil([&] { return (*a)->IsLeader(); }));
  (*b)->Start();
  for (int i = 0; i < 5; ++i) CreatePod("x" + std::to_string(i), "100m");
  ASSERT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 5; ++i) {
      if (NodeOf("x" + std::to_string(i)).empty()) return false;
    }
    return true;
  }));
  EXPECT_TRUE(WaitUntil([&] { return (*a)->stats().scheduled == 5; }));
  EXPECT_EQ((*b)->stats().scheduled, 0);
  EXPECT_FALSE((*b)->IsLeader());
  auto lease = api()->Get(client::resources::kLeases, "kube-system", "kube-scheduler");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "a");

  (*a)->Stop();
  ASSERT_TRUE(WaitUntil([&] { return (*b)->IsLeader(); }));
  CreatePod("after", "100m");
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("after") == "n1"; }));
  EXPECT_TRUE(WaitUntil([&] { return (*b)->stats().scheduled == 1; }));
  EXPECT_EQ((*b)->stats().bind_failures, 0);
}

// Every call goes to the real client, except the first `fail` bindings,
// which fail as an API that is briefly unavailable.
class FlakyBindings : public client::ApiClient {
 public:
  FlakyBindings(client::ApiClient* real, int fail) : real_(real), fail_(fail) {}
  absl::StatusOr<json> Get(const client::ResourceRef& r, const std::string& ns, const std::string& n) override {
    return real_->Get(r, ns, n);
  }
  absl::StatusOr<json> List(const client::ResourceRef& r, const std::string& ns,
                            const client::ListOptions& o) override {
    return real_->List(r, ns, o);
  }
  absl::StatusOr<json> Create(const client::ResourceRef& r, const std::string& ns, const json& obj) override {
    return real_->Create(r, ns, obj);
  }
  absl::StatusOr<json> Update(const client::ResourceRef& r, const std::string& ns, const json& obj,
                              const std::string& sub) override {
    return real_->Update(r, ns, obj, sub);
  }
  absl::StatusOr<json> Patch(const client::ResourceRef& r, const std::string& ns, const std::string& n,
                             client::PatchType t, const json& p, const std::string& sub) override {
    return real_->Patch(r, ns, n, t, p, sub);
  }
  absl::StatusOr<json> Delete(const client::ResourceRef& r, const std::string& ns, const std::string& n,
                              const client::DeleteOptions& o) override {
    return real_->Delete(r, ns, n, o);
  }
  absl::StatusOr<json> CreateSubresource(const client::ResourceRef& r, const std::string& ns, const std::string& n,
                                         const std::string& sub, const json& body) override {
    if (sub == "binding" && fail_.fetch_sub(1) > 0) {
      failed_at_ = absl::Now();
      return absl::UnavailableError("the API is briefly unavailable (test)");
    }
    if (sub == "binding") bound_at_ = absl::Now();
    return real_->CreateSubresource(r, ns, n, sub, body);
  }
  absl::StatusOr<std::unique_ptr<client::WatchStream>> Watch(const client::ResourceRef& r, const std::string& ns,
                                                             const client::ListOptions& o, client::WatchHandler e,
                                                             client::WatchEndHandler end) override {
    return real_->Watch(r, ns, o, std::move(e), std::move(end));
  }
  absl::Time failed_at_, bound_at_;

 private:
  client::ApiClient* real_;
  std::atomic<int> fail_;
};

TEST_F(SchedulerLoopTest, AFailedBindingIsRetriedAfterABackOff) {
  CreateNode("n1", "4");
  FlakyBindings flaky(api(), 1);
  auto loop = SchedulerLoop::Create(&flaky, Fast("a"));
  ASSERT_TRUE(loop.ok());
  (*loop)->Start();
  CreatePod("p", "100m");
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("p") == "n1"; }));
  EXPECT_TRUE(WaitUntil([&] { return (*loop)->stats().scheduled == 1; }));
  EXPECT_EQ((*loop)->stats().bind_failures, 1);
  EXPECT_GE(flaky.bound_at_ - flaky.failed_at_, absl::Milliseconds(900));  // the 1 s back-off
  (*loop)->Stop();
}

TEST_F(SchedulerLoopTest, BadOptionsAreRefused) {
  SchedulerLoopOptions o = Fast("a");
  o.bind_workers = 0;
  auto bad = SchedulerLoop::Create(api(), o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bind workers"), absl::string_view::npos);
  o = Fast("a");
  o.election.retry_period = absl::Seconds(5);
  bad = SchedulerLoop::Create(api(), o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
}

}  // namespace
}  // namespace berth::scheduler
