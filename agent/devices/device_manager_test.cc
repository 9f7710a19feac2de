// DeviceManager against in-process fake plugins (FakeDevicePlugin) in a
// temporary device-plugins dir: registration checks, capacity and health,
// allocation (distinct devices, preferred allocation, PreStartContainer,
// init containers), admission failure, the grace period, the checkpoint.
#include "agent/devices/device_manager.h"

#include <stdlib.h>

#include <cstdio>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/devices/testing/fake_device_plugin.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent::devices {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

k8s::Container Container(const std::string& name, int widgets) {
  k8s::Container c;
  c.name = name;
  c.image = "busybox";
  if (widgets > 0) c.resources.limits["example.com/widget"] = *k8s::Quantity::Parse(std::to_string(widgets));
  return c;
}

k8s::Pod Pod(const std::string& name, std::vector<k8s::Container> containers,
             std::vector<k8s::Container> init = {}) {
  k8s::Pod pod;
  pod.metadata.name = name;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-" + name;
  pod.spec.containers = std::move(containers);
  pod.spec.initContainers = std::move(init);
  return pod;
}

class DeviceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-devices-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    plugin_.reset();
    manager_.reset();
    RemoveAll(dir_).IgnoreError();
  }

  void StartManager(absl::Duration grace = absl::Seconds(30)) {
    DeviceManagerOptions o;
    o.plugins_dir = dir_;
    o.grace_period = grace;
    o.rpc_timeout = absl::Seconds(5);
    manager_ = std::make_unique<DeviceManager>(o);
    ASSERT_TRUE(manager_->Start().ok());
  }

  FakeDevicePluginOptions PluginOptions(int devices) {
    FakeDevicePluginOptions o;
    o.plugins_dir = dir_;
    for (int i = 0; i < devices; ++i) o.device_ids.push_back(absl::StrCat("w", i));
    return o;
  }

  void StartPlugin(FakeDevicePluginOptions o) {
    plugin_ = std::make_unique<FakeDevicePlugin>(std::move(o));
    ASSERT_TRUE(plugin_->Start().ok());
    absl::Status st = plugin_->Register();
    ASSERT_TRUE(st.ok()) << st;
  }

  // Polls Resources() until `ok` holds for example.com/widget (or the resource's absence).
  bool WaitFor(const std::function<bool(const ResourceView*)>& ok, absl::Duration timeout = absl::Seconds(5)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto all = manager_->Resources();
      auto it = all.find("example.com/widget");
      if (ok(it == all.end() ? nullptr : &it->second)) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  bool WaitAllocatable(int64_t n, bool connected = true) {
    return WaitFor([&](const ResourceView* v) { return v && v->allocatable == n && v->plugin_connected == connected; });
  }

  std::string dir_;
  std::unique_ptr<DeviceManager> manager_;
  std::unique_ptr<FakeDevicePlugin> plugin_;
};

TEST_F(DeviceManagerTest, RegisterRejectsBadRequestsNamingTheField) {
  StartManager();
  FakeDevicePlugin plugin(PluginOptions(1));
  ASSERT_TRUE(plugin.Start().ok());
  auto request = [&](std::string version, std::string resource, std::string endpoint) {
    v1beta1::RegisterRequest r;
    r.set_version(version);
    r.set_resource_name(resource);
    r.set_endpoint(endpoint);
    return manager_->Register(r);
  };
  EXPECT_THAT(std::string(request("v1alpha", "example.com/widget", "widget.sock").message()),
              HasSubstr("version: \"v1alpha\""));
  EXPECT_THAT(std::string(request("v1beta1", "widget", "widget.sock").message()), HasSubstr("resource_name: \"widget\""));
  EXPECT_THAT(std::string(request("v1beta1", "kubernetes.io/widget", "widget.sock").message()),
              HasSubstr("resource_name"));
  EXPECT_THAT(std::string(request("v1beta1", "example.com/widget", "../widget.sock").message()),
              HasSubstr("endpoint: \"../widget.sock\""));
  EXPECT_THAT(std::string(request("v1beta1", "example.com/widget", "missing.sock").message()),
              HasSubstr("is not a socket"));
  EXPECT_TRUE(manager_->Resources().empty());
  // Through gRPC, and a second live plugin for the same resource is refused.
  ASSERT_TRUE(plugin.Register().ok());
  ASSERT_TRUE(WaitAllocatable(1));
  FakeDevicePluginOptions other = PluginOptions(2);
  other.endpoint = "other.sock";
  FakeDevicePlugin second(other);
  ASSERT_TRUE(second.Start().ok());
  absl::Status st = second.Register();
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_EQ(manager_->Resources()["example.com/widget"].capacity, 1);
}

TEST_F(DeviceManagerTest, CapacityFollowsHealthAndDistinctDevicesPerPod) {
  StartManager();
  StartPlugin(PluginOptions(3));
  ASSERT_TRUE(WaitAllocatable(3));
  plugin_->SetHealthy("w0", false);
  ASSERT_TRUE(WaitAllocatable(2));
  EXPECT_EQ(manager_->Resources()["example.com/widget"].capacity, 3);

  k8s::Pod a = Pod("a", {Container("c", 1)});
  k8s::Pod b = Pod("b", {Container("c", 1)});
  k8s::Pod c = Pod("c", {Container("c", 1)});
  ASSERT_TRUE(manager_->AllocatePod(a).ok());
  ASSERT_TRUE(manager_->AllocatePod(b).ok());
  auto da = manager_->PodDevices(a.metadata.uid)["c"]["example.com/widget"];
  auto db = manager_->PodDevices(b.metadata.uid)["c"]["example.com/widget"];
  // The unhealthy w0 is never given out.
  EXPECT_THAT(da, ElementsAre("w1"));
  EXPECT_THAT(db, ElementsAre("w2"));
  absl::Status st = manager_->AllocatePod(c);
  EXPECT_EQ(std::string(st.message()),
            "Allocate failed due to requested number of devices unavailable for example.com/widget. "
            "Requested: 1, Available: 0, which is unexpected");
  EXPECT_TRUE(manager_->PodDevices(c.metadata.uid).empty());

  // The container's CRI config gets the plugin's answer.
  cri::ContainerConfig config;
  config.add_envs()->set_key("OWN");
  ASSERT_TRUE(manager_->AddContainerDevices(a, a.spec.containers[0], &config).ok());
  ASSERT_EQ(config.envs_size(), 2);
  EXPECT_EQ(config.envs(0).key(), "WIDGET_IDS");
  EXPECT_EQ(config.envs(0).value(), "w1");

  // A device of a running pod turning unhealthy stays with it; freeing a pod frees its device.
  plugin_->SetHealthy("w1", false);
  ASSERT_TRUE(WaitAllocatable(1));
  EXPECT_THAT(manager_->PodDevices(a.metadata.uid)["c"]["example.com/widget"], ElementsAre("w1"));
  manager_->RemovePod(b.metadata.uid);
  ASSERT_TRUE(manager_->AllocatePod(c).ok());
  EXPECT_THAT(manager_->PodDevices(c.metadata.uid)["c"]["example.com/widget"], ElementsAre("w2"));
}

TEST_F(DeviceManagerTest, PreferredAllocationAndPreStartContainer) {
  StartManager();
  FakeDevicePluginOptions o = PluginOptions(4);
  o.preferred_allocation = true;
  o.pre_start_required = true;
  o.allocate = [](const std::vector<std::string>& ids) {
    v1beta1::ContainerAllocateResponse r;
    for (const auto& id : ids) {
      auto* d = r.add_devices();
      d->set_host_path("/dev/null");
      d->set_container_path("/dev/widget-" + id);
      d->set_permissions("rw");
      r.add_cdi_devices()->set_name("example.com/widget=" + id);
    }
    (*r.mutable_annotations())["example.com/widgets"] = std::to_string(ids.size());
    auto* m = r.add_mounts();
    m->set_host_path("/etc/hostname");
    m->set_container_path("/widget/info");
    m->set_read_only(true);
    return r;
  };
  StartPlugin(o);
  ASSERT_TRUE(WaitAllocatable(4));
  k8s::Pod pod = Pod("p", {Container("c", 2)});
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  EXPECT_EQ(plugin_->preferred_calls(), 1);
  // The fake prefers the last available ids.
  EXPECT_THAT(manager_->PodDevices(pod.metadata.uid)["c"]["example.com/widget"], ElementsAre("w3", "w2"));
  cri::ContainerConfig config;
  ASSERT_TRUE(manager_->AddContainerDevices(pod, pod.spec.containers[0], &config).ok());
  ASSERT_EQ(config.devices_size(), 2);
  EXPECT_EQ(config.devices(0).container_path(), "/dev/widget-w3");
  ASSERT_EQ(config.cdi_devices_size(), 2);
  EXPECT_EQ(config.cdi_devices(1).name(), "example.com/widget=w2");
  EXPECT_EQ(config.annotations().at("example.com/widgets"), "2");
  ASSERT_EQ(config.mounts_size(), 1);
  EXPECT_TRUE(config.mounts(0).readonly());
  EXPECT_THAT(plugin_->pre_start_calls(), ElementsAre(ElementsAre("w3", "w2")));
}

TEST_F(DeviceManagerTest, InitContainerDevicesAreReusedByAppContainers) {
  StartManager();
  StartPlugin(PluginOptions(2));
  ASSERT_TRUE(WaitAllocatable(2));
  k8s::Pod pod = Pod("p", {Container("app", 1), Container("other", 1)}, {Container("init", 1)});
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  auto d = manager_->PodDevices(pod.metadata.uid);
  EXPECT_THAT(d["init"]["example.com/widget"], ElementsAre("w0"));
  EXPECT_THAT(d["app"]["example.com/widget"], ElementsAre("w0"));
  EXPECT_THAT(d["other"]["example.com/widget"], ElementsAre("w1"));
  EXPECT_EQ(manager_->Resources()["example.com/widget"].allocated, 2);
}

TEST_F(DeviceManagerTest, PluginGoneKeepsDevicesUnhealthyForTheGracePeriod) {
  StartManager(absl::Milliseconds(800));
  StartPlugin(PluginOptions(2));
  ASSERT_TRUE(WaitAllocatable(2));
  plugin_->Stop();
  ASSERT_TRUE(WaitAllocatable(0, /*connected=*/false));
  EXPECT_EQ(manager_->Resources()["example.com/widget"].capacity, 2);
  // Back within the grace period: healthy again.
  ASSERT_TRUE(plugin_->Start().ok());
  ASSERT_TRUE(plugin_->Register().ok());
  ASSERT_TRUE(WaitAllocatable(2));
  // Gone for longer than the grace period: the resource is gone too.
  plugin_->Stop();
  absl::Time stopped = absl::Now();
  ASSERT_TRUE(WaitFor([](const ResourceView* v) { return v == nullptr; }));
  EXPECT_GE(absl::Now() - stopped, absl::Milliseconds(700));
}

TEST_F(DeviceManagerTest, RestartKeepsAllocationsAndPluginsRegisterAgain) {
  StartManager();
  StartPlugin(PluginOptions(2));
  ASSERT_TRUE(WaitAllocatable(2));
  k8s::Pod pod = Pod("p", {Container("c", 1)});
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  EXPECT_EQ(plugin_->allocate_calls(), 1);
  manager_.reset();

  StartManager();
  // Before the plugin is back: the devices last seen and the allocation.
  auto view = manager_->Resources()["example.com/widget"];
  EXPECT_EQ(view.capacity, 2);
  EXPECT_EQ(view.allocated, 1);
  EXPECT_FALSE(view.plugin_connected);
  ASSERT_TRUE(plugin_->Register().ok());
  ASSERT_TRUE(WaitAllocatable(2));
  // Admitting the pod again keeps its device and calls no plugin.
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  EXPECT_EQ(plugin_->allocate_calls(), 1);
  EXPECT_THAT(manager_->PodDevices(pod.metadata.uid)["c"]["example.com/widget"], ElementsAre("w0"));
  cri::ContainerConfig config;
  ASSERT_TRUE(manager_->AddContainerDevices(pod, pod.spec.containers[0], &config).ok());
  ASSERT_EQ(config.envs_size(), 1);
  EXPECT_EQ(config.envs(0).value(), "w0");
  k8s::Pod other = Pod("q", {Container("c", 1)});
  ASSERT_TRUE(manager_->AllocatePod(other).ok());
  EXPECT_THAT(manager_->PodDevices(other.metadata.uid)["c"]["example.com/widget"], ElementsAre("w1"));
}

TEST_F(DeviceManagerTest, ContainersWithoutPluginResourcesAreLeftAlone) {
  StartManager();
  k8s::Pod pod = Pod("p", {Container("c", 0)});
  pod.spec.containers[0].resources.limits["other.com/thing"] = *k8s::Quantity::Parse("1");
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  cri::ContainerConfig config;
  ASSERT_TRUE(manager_->AddContainerDevices(pod, pod.spec.containers[0], &config).ok());
  EXPECT_EQ(config.ByteSizeLong(), 0u);
}

// The time allocation adds to container creation: the merge of the stored
// Allocate answer into the CRI config (no PreStartContainer asked for here).
TEST_F(DeviceManagerTest, AddContainerDevicesAddsWellUnderAMillisecond) {
  StartManager();
  StartPlugin(PluginOptions(2));
  ASSERT_TRUE(WaitAllocatable(2));
  k8s::Pod pod = Pod("p", {Container("c", 2)});
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  constexpr int kRounds = 2000;
  absl::Time begin = absl::Now();
  for (int i = 0; i < kRounds; ++i) {
    cri::ContainerConfig config;
    ASSERT_TRUE(manager_->AddContainerDevices(pod, pod.spec.containers[0], &config).ok());
  }
  absl::Duration each = (absl::Now() - begin) / kRounds;
  fprintf(stderr, "AddContainerDevices: %s per container (%d rounds)\n", absl::FormatDuration(each).c_str(), kRounds);
  EXPECT_LT(each, absl::Milliseconds(1));
}

}  // namespace
}  // namespace berth::agent::devices
