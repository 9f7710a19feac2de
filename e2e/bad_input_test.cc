// Bad requests get a clear error and change nothing.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

bool Mentions(const absl::Status& status, absl::string_view word) {
  return absl::StrContains(absl::AsciiStrToLower(status.message()), word);
}

class BadInputTest : public CriE2eTest {
 protected:
  // The ids of every pod and container, to show a failed call changed nothing.
  void Snapshot(std::vector<std::string>* pods, std::vector<std::string>* containers) {
    auto listed_pods = client_->ListPodSandbox();
    ASSERT_TRUE(listed_pods.ok()) << listed_pods.status();
    auto listed_containers = client_->ListContainers();
    ASSERT_TRUE(listed_containers.ok()) << listed_containers.status();
    pods->clear();
    containers->clear();
    for (const auto& pod : *listed_pods) pods->push_back(pod.id());
    for (const auto& container : *listed_containers) containers->push_back(container.id());
    std::sort(pods->begin(), pods->end());
    std::sort(containers->begin(), containers->end());
  }

  void ExpectUnchanged(const std::string& after_what) {
    std::vector<std::string> pods, containers;
    Snapshot(&pods, &containers);
    EXPECT_EQ(pods, pods_) << "pods changed after " << after_what;
    EXPECT_EQ(containers, containers_) << "containers changed after " << after_what;
  }

  std::vector<std::string> pods_, containers_;
};

TEST_F(BadInputTest, RejectsAndChangesNothing) {
  v1::PodSandboxConfig pod = PodConfig("good");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  Snapshot(&pods_, &containers_);
  ASSERT_EQ(pods_.size(), 1u);

  v1::PodSandboxConfig no_metadata = PodConfig("unused");
  no_metadata.clear_metadata();
  absl::StatusOr<std::string> missing = client_->RunPodSandbox(no_metadata);
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(Mentions(missing.status(), "metadata")) << missing.status();
  // containerd 1.6 answers Unknown here; InvalidArgument is what CRI intends.
  EXPECT_TRUE(missing.status().code() == absl::StatusCode::kInvalidArgument ||
              missing.status().code() == absl::StatusCode::kUnknown)
      << missing.status();
  RecordProperty("no_metadata", missing.status().ToString());
  ExpectUnchanged("a pod without metadata");

  absl::StatusOr<std::string> twice = client_->RunPodSandbox(pod);
  EXPECT_FALSE(twice.ok());
  EXPECT_TRUE(Mentions(twice.status(), "reserved") || Mentions(twice.status(), "already"))
      << twice.status();
  RecordProperty("same_name_twice", twice.status().ToString());
  ExpectUnchanged("the same pod name twice");

  absl::StatusOr<std::string> orphan = client_->CreateContainer(
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      MinimalContainerConfig("orphan", kBusybox, {"true"}), pod);
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kNotFound) << orphan.status();
  RecordProperty("unknown_sandbox", orphan.status().ToString());
  ExpectUnchanged("a container in an unknown sandbox");

  v1::ContainerConfig bad_seccomp = MinimalContainerConfig("seccomp", kBusybox, {"true"});
  const std::string profile = runtime_->root() + "/malformed-seccomp.json";
  E2E_ASSERT_OK(AtomicWriteFile(profile, "{ \"defaultAction\": "));
  auto* seccomp = bad_seccomp.mutable_linux()->mutable_security_context()->mutable_seccomp();
  seccomp->set_profile_type(v1::SecurityProfile::Localhost);
  seccomp->set_localhost_ref(profile);
  absl::StatusOr<std::string> malformed = client_->CreateContainer(pod_id, bad_seccomp, pod);
  EXPECT_FALSE(malformed.ok());
  EXPECT_TRUE(Mentions(malformed.status(), "seccomp")) << malformed.status();
  RecordProperty("malformed_seccomp", malformed.status().ToString());
  ExpectUnchanged("a malformed seccomp profile");

  const std::string host_path = runtime_->root() + "/does-not-exist";
  v1::ContainerConfig bad_mount = MinimalContainerConfig("mount", kBusybox, {"true"});
  v1::Mount* mount = bad_mount.add_mounts();
  mount->set_host_path(host_path);
  mount->set_container_path("/data");
  absl::StatusOr<std::string> mounted = client_->CreateContainer(pod_id, bad_mount, pod);
  if (IsContainerd()) {
    // containerd 1.6 (like `docker run -v`) creates a missing host path as a
    // directory and goes on.
    EXPECT_TRUE(mounted.ok()) << mounted.status();
    EXPECT_TRUE(PathExists(host_path));
  } else {
    EXPECT_FALSE(mounted.ok());
    EXPECT_TRUE(absl::StrContains(mounted.status().message(), host_path)) << mounted.status();
    EXPECT_FALSE(PathExists(host_path));
    ExpectUnchanged("a mount of a missing host path");
  }
}

}  // namespace
}  // namespace berth::e2e
