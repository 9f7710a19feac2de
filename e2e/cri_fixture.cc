#include "e2e/cri_fixture.h"

#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "common/fs.h"

namespace berth::e2e {

namespace v1 = runtime::v1;

std::string* CriE2eTest::images_dir_ = nullptr;
absl::Status* CriE2eTest::images_status_ = nullptr;

void CriE2eTest::SetUpTestSuite() {
  std::string pattern = "/tmp/berth-e2e-images-XXXXXX";
  images_status_ = new absl::Status();
  if (mkdtemp(pattern.data()) == nullptr) {
    *images_status_ = absl::InternalError("mkdtemp for images failed");
    return;
  }
  images_dir_ = new std::string(pattern);
  *images_status_ =
      RunCommand({SourceDir() + "/hack/build-busybox-image.sh", *images_dir_}, absl::Seconds(120))
          .status();
}

void CriE2eTest::TearDownTestSuite() {
  if (images_dir_ != nullptr) (void)RemoveAll(*images_dir_);
  delete images_dir_;
  delete images_status_;
  images_dir_ = nullptr;
  images_status_ = nullptr;
}

void CriE2eTest::SetUp() {
  ASSERT_TRUE(images_status_->ok()) << "building test images: " << *images_status_;
  runtime_ = RuntimeUnderTest::FromEnv();
  absl::Status started =
      runtime_->Start({*images_dir_ + "/busybox.tar", *images_dir_ + "/pause.tar"});
  ASSERT_TRUE(started.ok()) << "starting " << runtime_->name() << ": " << started;
  client_ = std::make_unique<CriClient>(runtime_->endpoint());
}

void CriE2eTest::TearDown() {
  client_.reset();
  if (runtime_ != nullptr) {
    if (HasFailure()) {
      std::string log = runtime_->LogTail(16000);
      if (!log.empty()) fprintf(stderr, "the end of %s's log:\n%s\n", runtime_->name().c_str(), log.c_str());
    }
    absl::Status stopped = runtime_->Stop();
    EXPECT_TRUE(stopped.ok()) << "cleaning up " << runtime_->name() << ": " << stopped;
  }
}

v1::PodSandboxConfig CriE2eTest::PodConfig(const std::string& name) {
  const std::string uid = absl::StrCat("e2e-", getpid(), "-", ++pod_counter_);
  v1::PodSandboxConfig pod = MinimalPodSandboxConfig(name, uid);
  pod.set_log_directory(absl::StrCat(runtime_->root(), "/logs/default_", name, "_", uid));
  // Kubelet's cgroupfs layout: one cgroup per pod under the QoS parent.
  pod.mutable_linux()->set_cgroup_parent(absl::StrCat(runtime_->cgroup_parent(), "/pod", uid));
  return pod;
}

std::string CriE2eTest::LogPath(const v1::PodSandboxConfig& pod,
                                const v1::ContainerConfig& container) const {
  return pod.log_directory() + "/" + container.log_path();
}

absl::StatusOr<std::string> CriE2eTest::CreateAndStart(const std::string& pod_id,
                                                       const v1::PodSandboxConfig& pod,
                                                       const v1::ContainerConfig& container) {
  ASSIGN_OR_RETURN(std::string id, client_->CreateContainer(pod_id, container, pod));
  RETURN_IF_ERROR(client_->StartContainer(id));
  return id;
}

absl::StatusOr<std::string> CriE2eTest::RunSleeper(const std::string& pod_id,
                                                   const v1::PodSandboxConfig& pod,
                                                   v1::ContainerConfig container) {
  container.mutable_image()->set_image(kBusybox);
  container.clear_command();
  container.add_command("sleep");
  container.add_command("3600");
  return CreateAndStart(pod_id, pod, container);
}

}  // namespace berth::e2e
