// The gtest fixture every e2e test uses: images built once per run, a fresh
// runtime (berth-agent, or containerd with BERTH_E2E_RUNTIME=containerd) per
// test under its own temporary root, torn down even when the test fails.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/cri/api.pb.h"
#include "common/status_macros.h"
#include "e2e/cri_client.h"
#include "e2e/runtime_under_test.h"
#include "gtest/gtest.h"

namespace berth::e2e {

inline absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

#define E2E_ASSERT_OK(expr)                                   \
  do {                                                        \
    const ::absl::Status e2e_status_ = ::berth::e2e::StatusOf(expr); \
    ASSERT_TRUE(e2e_status_.ok()) << e2e_status_;             \
  } while (0)

#define E2E_EXPECT_OK(expr)                                   \
  do {                                                        \
    const ::absl::Status e2e_status_ = ::berth::e2e::StatusOf(expr); \
    EXPECT_TRUE(e2e_status_.ok()) << e2e_status_;             \
  } while (0)

#define E2E_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  E2E_ASSERT_OK_AND_ASSIGN_IMPL_(BERTH_CONCAT_(e2e_statusor_, __LINE__), lhs, expr)
#define E2E_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  ASSERT_TRUE(statusor.ok()) << statusor.status();          \
  lhs = std::move(statusor).value()

inline constexpr char kBusybox[] = "docker.io/library/busybox:latest";

class CriE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  bool IsContainerd() const { return runtime_->name() == "containerd"; }

  // A pod config with a unique uid, labels and annotations empty, the run's
  // cgroup parent and a log directory under the runtime's root.
  runtime::v1::PodSandboxConfig PodConfig(const std::string& name);

  // The host path of a container's CRI log.
  std::string LogPath(const runtime::v1::PodSandboxConfig& pod,
                      const runtime::v1::ContainerConfig& container) const;

  // CreateContainer + StartContainer; returns the container id.
  absl::StatusOr<std::string> CreateAndStart(const std::string& pod_id,
                                             const runtime::v1::PodSandboxConfig& pod,
                                             const runtime::v1::ContainerConfig& container);

  // A running `sleep 3600` container with `container` settings applied on top.
  absl::StatusOr<std::string> RunSleeper(const std::string& pod_id,
                                         const runtime::v1::PodSandboxConfig& pod,
                                         runtime::v1::ContainerConfig container);

  std::unique_ptr<RuntimeUnderTest> runtime_;
  std::unique_ptr<CriClient> client_;

 private:
  static std::string* images_dir_;
  static absl::Status* images_status_;
  int pod_counter_ = 0;
};

}  // namespace berth::e2e
