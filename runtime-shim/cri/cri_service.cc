#include "runtime-shim/cri/cri_service.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/logging.h"
#include "grpcpp/grpcpp.h"

namespace berth {
namespace {

grpc::Status ToGrpc(const absl::Status& status, const char* call) {
  if (status.ok()) return grpc::Status::OK;
  BERTH_LOG(Warning) << call << " failed" << Kv("error", status.ToString());
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

#define BERTH_CRI_CALL(Name)                                                                     \
  grpc::Status Name(grpc::ServerContext*, const cri::Name##Request* req, cri::Name##Response* resp) \
      override {                                                                                 \
    return ToGrpc(runtime_->Name(*req, resp), #Name);                                            \
  }

class RuntimeServiceImpl final : public cri::RuntimeService::Service {
 public:
  explicit RuntimeServiceImpl(Runtime* runtime) : runtime_(runtime) {}
  BERTH_CRI_CALL(Version)
  BERTH_CRI_CALL(RunPodSandbox)
  BERTH_CRI_CALL(StopPodSandbox)
  BERTH_CRI_CALL(RemovePodSandbox)
  BERTH_CRI_CALL(PodSandboxStatus)
  BERTH_CRI_CALL(ListPodSandbox)
  BERTH_CRI_CALL(CreateContainer)
  BERTH_CRI_CALL(StartContainer)
  BERTH_CRI_CALL(StopContainer)
  BERTH_CRI_CALL(RemoveContainer)
  BERTH_CRI_CALL(ListContainers)
  BERTH_CRI_CALL(ContainerStatus)
  BERTH_CRI_CALL(UpdateContainerResources)
  BERTH_CRI_CALL(ReopenContainerLog)
  BERTH_CRI_CALL(ExecSync)
  BERTH_CRI_CALL(ContainerStats)
  BERTH_CRI_CALL(ListContainerStats)
  BERTH_CRI_CALL(PodSandboxStats)
  BERTH_CRI_CALL(ListPodSandboxStats)
  BERTH_CRI_CALL(UpdateRuntimeConfig)
  BERTH_CRI_CALL(Status)
  BERTH_CRI_CALL(RuntimeConfig)

  BERTH_CRI_CALL(Exec)
  BERTH_CRI_CALL(Attach)
  BERTH_CRI_CALL(PortForward)

  grpc::Status GetContainerEvents(grpc::ServerContext* context, const cri::GetEventsRequest*,
                                  grpc::ServerWriter<cri::ContainerEventResponse>* writer) override {
    auto sub = runtime_->events().Subscribe();
    while (!context->IsCancelled()) {
      auto event = sub->Next(absl::Milliseconds(500));
      if (!event) continue;
      if (!writer->Write(*event)) break;
    }
    runtime_->events().Unsubscribe(sub);
    return grpc::Status::OK;
  }

 private:
  Runtime* runtime_;
};

class ImageServiceImpl final : public cri::ImageService::Service {
 public:
  explicit ImageServiceImpl(Runtime* runtime) : runtime_(runtime) {}
  BERTH_CRI_CALL(ListImages)
  BERTH_CRI_CALL(ImageStatus)
  BERTH_CRI_CALL(PullImage)
  BERTH_CRI_CALL(RemoveImage)
  BERTH_CRI_CALL(ImageFsInfo)

 private:
  Runtime* runtime_;
};

#undef BERTH_CRI_CALL

// Owns the services for as long as the server runs.
struct Services {
  RuntimeServiceImpl runtime;
  ImageServiceImpl image;
  explicit Services(Runtime* r) : runtime(r), image(r) {}
};

}  // namespace

absl::StatusOr<std::unique_ptr<grpc::Server>> ServeCri(Runtime* runtime, const std::string& endpoint) {
  std::string path = endpoint;
  if (absl::StartsWith(path, "unix://")) path = path.substr(strlen("unix://"));
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("listen: \"", endpoint, "\" is not an absolute unix socket path"));
  }
  auto slash = path.rfind('/');
  if (slash > 0) {
    if (auto s = MkdirAll(path.substr(0, slash), 0755); !s.ok()) return s;
  }
  unlink(path.c_str());
  static std::vector<std::unique_ptr<Services>> keep_alive;
  auto services = std::make_unique<Services>(runtime);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + path, grpc::InsecureServerCredentials());
  builder.RegisterService(&services->runtime);
  builder.RegisterService(&services->image);
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  builder.SetMaxSendMessageSize(16 * 1024 * 1024);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::UnavailableError(absl::StrCat("cannot listen on ", endpoint));
  chmod(path.c_str(), 0660);
  keep_alive.push_back(std::move(services));
  return server;
}

}  // namespace berth
