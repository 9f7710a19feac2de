// The CRI calls the other suites don't reach: UpdateContainerResources,
// ReopenContainerLog, GetContainerEvents, list filters, image and runtime
// status calls.
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"
#include "grpcpp/grpcpp.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(30)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

// Polls `done` toward a deadline (for effects no CRI event reports, such as
// bytes reaching a log file).
bool Eventually(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// The memory cgroup of a process exec'd in a running container (the same as
// its init's), as the host sees it. Not /proc/1: in a pod sharing its pid
// namespace that is the pod's reaper.
std::string MemoryCgroupOf(CriClient& client, const std::string& id) {
  auto out = client.ExecSync(id, {"cat", "/proc/self/cgroup"}, 10);
  if (!out.ok()) return "";
  for (absl::string_view line : absl::StrSplit(out->stdout(), '\n')) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() == 3 && absl::StrContains(parts[1], "memory")) return parts[2];
  }
  return "";
}

TEST_F(CriE2eTest, UpdateContainerResourcesReachesTheCgroup) {
  v1::PodSandboxConfig pod = PodConfig("update");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig("c", kBusybox, {});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(128 << 20);
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, config));
  std::string cgroup = MemoryCgroupOf(*client_, id);
  ASSERT_FALSE(cgroup.empty());
  // Paths are relative to the container's cgroup namespace root when it
  // has one (cgroup v2 style); skip rather than guess there.
  std::string limit_file = "/sys/fs/cgroup/memory" + cgroup + "/memory.limit_in_bytes";
  if (!PathExists(limit_file)) GTEST_SKIP() << "memory cgroup path not visible from the host: " << cgroup;
  EXPECT_EQ(ReadFile(limit_file).value_or(""), absl::StrCat(128 << 20, "\n"));

  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(id);
  req.mutable_linux()->set_memory_limit_in_bytes(64 << 20);
  req.mutable_linux()->set_cpu_shares(512);
  v1::UpdateContainerResourcesResponse resp;
  grpc::Status status = client_->runtime().UpdateContainerResources(Context().get(), req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ReadFile(limit_file).value_or(""), absl::StrCat(64 << 20, "\n"));
}

TEST_F(CriE2eTest, ReopenContainerLogStartsANewFile) {
  v1::PodSandboxConfig pod = PodConfig("reopen");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig(
      "talker", kBusybox, {"sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done"});
  config.set_log_path("talker/0.log");
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, CreateAndStart(pod_id, pod, config));
  const std::string log = LogPath(pod, config);
  ASSERT_TRUE(Eventually([&] { return absl::StrContains(ReadFile(log).value_or(""), "line 1\n"); },
                         absl::Seconds(10)));
  ASSERT_EQ(rename(log.c_str(), (log + ".1").c_str()), 0);

  v1::ReopenContainerLogRequest req;
  req.set_container_id(id);
  v1::ReopenContainerLogResponse resp;
  grpc::Status status = client_->runtime().ReopenContainerLog(Context().get(), req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(Eventually([&] { return absl::StrContains(ReadFile(log).value_or(""), " stdout F line "); },
                         absl::Seconds(10)));
  // The rotated file stops growing: new lines go only to the new one.
  std::string rotated = ReadFile(log + ".1").value_or("");
  std::string fresh = ReadFile(log).value_or("");
  EXPECT_FALSE(rotated.empty());
  EXPECT_FALSE(absl::StrContains(rotated, fresh.substr(fresh.find(" F ") + 3)));
}

TEST_F(CriE2eTest, ContainerEventsArriveInOrder) {
  if (IsContainerd()) GTEST_SKIP() << "containerd 1.6 does not implement GetContainerEvents";
  grpc::ClientContext context;
  v1::GetEventsRequest req;
  auto reader = client_->runtime().GetContainerEvents(&context, req);
  v1::PodSandboxConfig pod = PodConfig("events");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  E2E_ASSERT_OK_AND_ASSIGN(
      std::string id, CreateAndStart(pod_id, pod, MinimalContainerConfig("c", kBusybox, {"true"})));
  E2E_ASSERT_OK(client_->WaitForContainerState(id, v1::CONTAINER_EXITED, absl::Seconds(20)));
  E2E_ASSERT_OK(client_->RemoveContainer(id));
  std::vector<v1::ContainerEventType> seen;
  v1::ContainerEventResponse event;
  while (seen.size() < 4 && reader->Read(&event)) {
    if (event.container_id() != id) continue;
    seen.push_back(event.container_event_type());
    if (event.container_event_type() != v1::CONTAINER_DELETED_EVENT) {
      ASSERT_EQ(event.containers_statuses_size(), 1);
      EXPECT_EQ(event.pod_sandbox_status().id(), pod_id);
    }
  }
  context.TryCancel();
  EXPECT_EQ(seen, (std::vector<v1::ContainerEventType>{v1::CONTAINER_CREATED_EVENT, v1::CONTAINER_STARTED_EVENT,
                                                        v1::CONTAINER_STOPPED_EVENT, v1::CONTAINER_DELETED_EVENT}));
}

TEST_F(CriE2eTest, ListFiltersByIdStateAndLabels) {
  v1::PodSandboxConfig a = PodConfig("filter-a");
  (*a.mutable_labels())["app"] = "a";
  v1::PodSandboxConfig b = PodConfig("filter-b");
  (*b.mutable_labels())["app"] = "b";
  E2E_ASSERT_OK_AND_ASSIGN(std::string a_id, client_->RunPodSandbox(a));
  E2E_ASSERT_OK_AND_ASSIGN(std::string b_id, client_->RunPodSandbox(b));
  E2E_ASSERT_OK(client_->StopPodSandbox(b_id));

  v1::PodSandboxFilter by_label;
  (*by_label.mutable_label_selector())["app"] = "a";
  E2E_ASSERT_OK_AND_ASSIGN(auto labelled, client_->ListPodSandbox(by_label));
  ASSERT_EQ(labelled.size(), 1u);
  EXPECT_EQ(labelled[0].id(), a_id);
  v1::PodSandboxFilter by_state;
  by_state.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  E2E_ASSERT_OK_AND_ASSIGN(auto not_ready, client_->ListPodSandbox(by_state));
  ASSERT_EQ(not_ready.size(), 1u);
  EXPECT_EQ(not_ready[0].id(), b_id);
  v1::PodSandboxFilter by_id;
  by_id.set_id(a_id);
  E2E_ASSERT_OK_AND_ASSIGN(auto one, client_->ListPodSandbox(by_id));
  ASSERT_EQ(one.size(), 1u);

  v1::ContainerConfig labelled_container = MinimalContainerConfig("c", kBusybox, {});
  (*labelled_container.mutable_labels())["tier"] = "web";
  E2E_ASSERT_OK_AND_ASSIGN(std::string c1, RunSleeper(a_id, a, labelled_container));
  E2E_ASSERT_OK_AND_ASSIGN(std::string c2, client_->CreateContainer(a_id, MinimalContainerConfig("d", kBusybox, {"true"}), a));
  v1::ContainerFilter running;
  running.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  E2E_ASSERT_OK_AND_ASSIGN(auto running_list, client_->ListContainers(running));
  ASSERT_EQ(running_list.size(), 1u);
  EXPECT_EQ(running_list[0].id(), c1);
  v1::ContainerFilter web;
  (*web.mutable_label_selector())["tier"] = "web";
  E2E_ASSERT_OK_AND_ASSIGN(auto web_list, client_->ListContainers(web));
  ASSERT_EQ(web_list.size(), 1u);
  v1::ContainerFilter in_pod;
  in_pod.set_pod_sandbox_id(a_id);
  E2E_ASSERT_OK_AND_ASSIGN(auto pod_list, client_->ListContainers(in_pod));
  EXPECT_EQ(pod_list.size(), 2u);
}

TEST_F(CriE2eTest, ImageAndRuntimeStatus) {
  E2E_ASSERT_OK_AND_ASSIGN(v1::ImageStatusResponse image, client_->ImageStatus("busybox"));
  ASSERT_TRUE(image.has_image());
  EXPECT_TRUE(absl::StartsWith(image.image().id(), "sha256:"));
  EXPECT_GT(image.image().size(), 0u);
  E2E_ASSERT_OK_AND_ASSIGN(v1::ImageStatusResponse missing, client_->ImageStatus("no-such-image:1"));
  EXPECT_FALSE(missing.has_image());

  v1::ListImagesRequest list_req;
  v1::ListImagesResponse list;
  ASSERT_TRUE(client_->images().ListImages(Context().get(), list_req, &list).ok());
  bool found = false;
  for (const auto& i : list.images()) {
    for (const auto& tag : i.repo_tags()) found |= tag == kBusybox;
  }
  EXPECT_TRUE(found);

  v1::ImageFsInfoRequest fs_req;
  v1::ImageFsInfoResponse fs;
  ASSERT_TRUE(client_->images().ImageFsInfo(Context().get(), fs_req, &fs).ok());
  ASSERT_GE(fs.image_filesystems_size(), 1);
  EXPECT_FALSE(fs.image_filesystems(0).fs_id().mountpoint().empty());
  // containerd fills the usage in from a periodic scan: 0 right after start.
  if (!IsContainerd()) {
    EXPECT_GT(fs.image_filesystems(0).used_bytes().value(), 0u);
  }

  v1::StatusRequest status_req;
  v1::StatusResponse status;
  ASSERT_TRUE(client_->runtime().Status(Context().get(), status_req, &status).ok());
  bool runtime_ready = false;
  for (const auto& c : status.status().conditions()) runtime_ready |= c.type() == "RuntimeReady" && c.status();
  EXPECT_TRUE(runtime_ready);

  v1::RuntimeConfigRequest config_req;
  v1::RuntimeConfigResponse config;
  grpc::Status config_status = client_->runtime().RuntimeConfig(Context().get(), config_req, &config);
  if (!IsContainerd()) {
    ASSERT_TRUE(config_status.ok()) << config_status.error_message();
    EXPECT_EQ(config.linux().cgroup_driver(), v1::CGROUPFS);  // no systemd as PID 1 here
  }
}

TEST_F(CriE2eTest, PullFromAnUnreachableRegistryNamesIt) {
  // Port 1 on loopback: nothing listens, so the pull fails at once.
  v1::PullImageRequest req;
  req.mutable_image()->set_image("127.0.0.1:1/berth/nothing:1.0");
  v1::PullImageResponse resp;
  grpc::Status status = client_->images().PullImage(Context(absl::Seconds(60)).get(), req, &resp);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(absl::StrContains(status.error_message(), "127.0.0.1:1")) << status.error_message();
  E2E_ASSERT_OK_AND_ASSIGN(v1::ImageStatusResponse missing, client_->ImageStatus("127.0.0.1:1/berth/nothing:1.0"));
  EXPECT_FALSE(missing.has_image());
}

}  // namespace
}  // namespace berth::e2e
