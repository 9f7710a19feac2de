#include "hack/berth-cri/proto_json.h"

#include "api/cri/api.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cri_cli {
namespace {

using ::testing::HasSubstr;
namespace v1 = runtime::v1;

TEST(ProtoJsonTest, ReadsBothFieldNameForms) {
  v1::PodSandboxConfig pod;
  absl::Status status = ParseJsonMessage(
      R"({"metadata": {"name": "demo", "namespace": "default", "uid": "u1"},
          "log_directory": "/var/log/pods/x", "linux": {"cgroupParent": "/p"}})",
      "pod.json", &pod);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(pod.metadata().name(), "demo");
  EXPECT_EQ(pod.log_directory(), "/var/log/pods/x");
  EXPECT_EQ(pod.linux().cgroup_parent(), "/p");
}

TEST(ProtoJsonTest, UnknownFieldsAndBadJsonAreErrorsNamingTheFile) {
  v1::ContainerConfig container;
  absl::Status typo = ParseJsonMessage(R"({"imagee": {}})", "c.json", &container);
  EXPECT_THAT(std::string(typo.message()), HasSubstr("c.json"));
  EXPECT_THAT(std::string(typo.message()), HasSubstr("runtime.v1.ContainerConfig"));
  EXPECT_FALSE(ParseJsonMessage("{", "c.json", &container).ok());
  EXPECT_THAT(std::string(LoadJsonMessage("/nonexistent/c.json", &container).message()),
              HasSubstr("/nonexistent/c.json"));
}

TEST(ProtoJsonTest, StatusWithInfoEmbedsJsonValues) {
  v1::ContainerStatus status;
  status.set_id("c1");
  status.set_state(v1::CONTAINER_RUNNING);
  google::protobuf::Map<std::string, std::string> info;
  info["info"] = R"({"pid": 42})";
  info["note"] = "plain text";
  absl::StatusOr<std::string> json = StatusWithInfoJson(status, info);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("id": "c1")"));
  EXPECT_THAT(*json, HasSubstr(R"("state": "CONTAINER_RUNNING")"));
  EXPECT_THAT(*json, HasSubstr(R"("pid": 42)"));
  EXPECT_THAT(*json, HasSubstr(R"("note": "plain text")"));
}

TEST(ProtoJsonTest, ToJsonIsIndented) {
  v1::VersionResponse version;
  version.set_runtime_name("berth");
  absl::StatusOr<std::string> json = ToJson(version);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"runtimeName\": \"berth\""));
}

}  // namespace
}  // namespace berth::cri_cli
