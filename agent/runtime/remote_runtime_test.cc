#include "agent/runtime/remote_runtime.h"

#include <stdlib.h>

#include <string>

#include "api/cri/api.grpc.pb.h"
#include "common/fs.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

// A CRI server that answers Version, fails ListContainers, and streams two events.
class FakeRuntime final : public cri::RuntimeService::Service {
 public:
  grpc::Status Version(grpc::ServerContext*, const cri::VersionRequest* req,
                       cri::VersionResponse* resp) override {
    resp->set_version(req->version());
    resp->set_runtime_name("fake");
    return grpc::Status::OK;
  }
  grpc::Status ListContainers(grpc::ServerContext*, const cri::ListContainersRequest*,
                              cri::ListContainersResponse*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such thing");
  }
  grpc::Status GetContainerEvents(grpc::ServerContext*, const cri::GetEventsRequest*,
                                  grpc::ServerWriter<cri::ContainerEventResponse>* writer) override {
    for (const char* id : {"c1", "c2"}) {
      cri::ContainerEventResponse event;
      event.set_container_id(id);
      event.set_container_event_type(cri::CONTAINER_STARTED_EVENT);
      writer->Write(event);
    }
    return grpc::Status::OK;
  }
};

class FakeImages final : public cri::ImageService::Service {
 public:
  grpc::Status PullImage(grpc::ServerContext*, const cri::PullImageRequest* req,
                         cri::PullImageResponse* resp) override {
    resp->set_image_ref("sha256:" + req->image().image());
    return grpc::Status::OK;
  }
};

class RemoteRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-remote-runtime-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    endpoint_ = "unix://" + dir_ + "/cri.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort(endpoint_, grpc::InsecureServerCredentials());
    builder.RegisterService(&runtime_);
    builder.RegisterService(&images_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    ASSERT_TRUE(RemoveAll(dir_).ok());
  }

  std::string dir_, endpoint_;
  FakeRuntime runtime_;
  FakeImages images_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(RemoteRuntimeTest, CallsReachTheEndpoint) {
  auto remote = RemoteRuntime::Connect(endpoint_);
  cri::VersionRequest req;
  req.set_version("v1");
  cri::VersionResponse resp;
  ASSERT_TRUE(remote->Version(req, &resp).ok());
  EXPECT_EQ(resp.version(), "v1");
  EXPECT_EQ(resp.runtime_name(), "fake");

  cri::PullImageRequest pull;
  pull.mutable_image()->set_image("busybox");
  cri::PullImageResponse pulled;
  ASSERT_TRUE(remote->PullImage(pull, &pulled).ok());
  EXPECT_EQ(pulled.image_ref(), "sha256:busybox");
}

TEST_F(RemoteRuntimeTest, ErrorsKeepTheCodeAndNameTheMethod) {
  auto remote = RemoteRuntime::Connect(endpoint_);
  cri::ListContainersResponse resp;
  absl::Status status = remote->ListContainers(cri::ListContainersRequest(), &resp);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "ListContainers: no such thing");
  // Not implemented by the fake: the gRPC code comes through.
  cri::StatusResponse st;
  EXPECT_EQ(remote->Status(cri::StatusRequest(), &st).code(), absl::StatusCode::kUnimplemented);
}

TEST_F(RemoteRuntimeTest, EventStreamDeliversInOrderThenEnds) {
  auto remote = RemoteRuntime::Connect(endpoint_);
  auto stream = remote->GetContainerEvents();
  ASSERT_TRUE(stream.ok());
  auto first = (*stream)->Next(absl::Seconds(10));
  auto second = (*stream)->Next(absl::Seconds(10));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->container_id(), "c1");
  EXPECT_EQ(second->container_id(), "c2");
  EXPECT_FALSE((*stream)->Next(absl::Seconds(10)).has_value());
  EXPECT_TRUE((*stream)->ended());
}

TEST_F(RemoteRuntimeTest, UnreachableEndpointIsAnError) {
  RemoteRuntime::Options options;
  options.call_timeout = absl::Milliseconds(300);
  auto remote = RemoteRuntime::Connect("unix://" + dir_ + "/nothing.sock", options);
  cri::VersionResponse resp;
  absl::Status status = remote->Version(cri::VersionRequest(), &resp);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("Version: "), std::string::npos) << status;
}

}  // namespace
}  // namespace berth::agent
