// A pod and one container through their whole CRI lifecycle.
#include "absl/time/clock.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

TEST_F(CriE2eTest, FullPodLifecycle) {
  v1::PodSandboxConfig pod = PodConfig("lifecycle");
  (*pod.mutable_labels())["app"] = "e2e";
  (*pod.mutable_annotations())["berth.dev/note"] = "lifecycle";
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  ASSERT_FALSE(pod_id.empty());

  E2E_ASSERT_OK_AND_ASSIGN(v1::PodSandboxStatusResponse pod_status,
                           client_->PodSandboxStatus(pod_id));
  EXPECT_EQ(pod_status.status().id(), pod_id);
  EXPECT_EQ(pod_status.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(pod_status.status().metadata().name(), "lifecycle");
  EXPECT_EQ(pod_status.status().metadata().namespace_(), "default");
  EXPECT_EQ(pod_status.status().metadata().uid(), pod.metadata().uid());
  EXPECT_EQ(pod_status.status().labels().at("app"), "e2e");
  EXPECT_EQ(pod_status.status().annotations().at("berth.dev/note"), "lifecycle");
  EXPECT_GT(pod_status.status().created_at(), 0);

  v1::ContainerConfig config = MinimalContainerConfig(
      "main", kBusybox, {"sh", "-c", "echo hello; echo err >&2; sleep 3600"});
  (*config.mutable_labels())["role"] = "main";
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, client_->CreateContainer(pod_id, config, pod));

  v1::ContainerFilter in_pod;
  in_pod.set_pod_sandbox_id(pod_id);
  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::Container> containers,
                           client_->ListContainers(in_pod));
  ASSERT_EQ(containers.size(), 1u);
  EXPECT_EQ(containers[0].id(), id);
  EXPECT_EQ(containers[0].pod_sandbox_id(), pod_id);
  EXPECT_EQ(containers[0].metadata().name(), "main");
  EXPECT_EQ(containers[0].state(), v1::CONTAINER_CREATED);
  EXPECT_EQ(containers[0].labels().at("role"), "main");

  E2E_ASSERT_OK(client_->StartContainer(id));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse running, client_->ContainerStatus(id));
  EXPECT_EQ(running.status().state(), v1::CONTAINER_RUNNING);
  EXPECT_GT(running.status().started_at(), 0);
  EXPECT_GE(running.status().started_at(), running.status().created_at());
  EXPECT_EQ(running.status().finished_at(), 0);
  EXPECT_EQ(running.status().image().image(), kBusybox);

  E2E_ASSERT_OK(client_->StopContainer(id, 2));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse exited, client_->ContainerStatus(id));
  EXPECT_EQ(exited.status().state(), v1::CONTAINER_EXITED);
  // sh as pid 1 has no TERM handler, so the kill after the grace period ends it.
  EXPECT_TRUE(exited.status().exit_code() == 137 || exited.status().exit_code() == 143)
      << "exit code " << exited.status().exit_code();
  EXPECT_GE(exited.status().finished_at(), exited.status().started_at());

  E2E_ASSERT_OK(client_->RemoveContainer(id));
  absl::StatusOr<v1::ContainerStatusResponse> gone = client_->ContainerStatus(id);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();

  E2E_ASSERT_OK(client_->StopPodSandbox(pod_id));
  E2E_ASSERT_OK(client_->StopPodSandbox(pod_id));  // idempotent
  E2E_ASSERT_OK_AND_ASSIGN(v1::PodSandboxStatusResponse stopped,
                           client_->PodSandboxStatus(pod_id));
  EXPECT_EQ(stopped.status().state(), v1::SANDBOX_NOTREADY);

  E2E_ASSERT_OK(client_->RemovePodSandbox(pod_id));
  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::PodSandbox> pods, client_->ListPodSandbox());
  EXPECT_TRUE(pods.empty());
  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::Container> left, client_->ListContainers());
  EXPECT_TRUE(left.empty());
}

}  // namespace
}  // namespace berth::e2e
