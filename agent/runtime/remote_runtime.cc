#include "agent/runtime/remote_runtime.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace berth::agent {
namespace {

absl::Status FromGrpc(const grpc::Status& status, absl::string_view method) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(method, ": ", status.error_message()));
}

// Reads the server stream on its own thread into a queue that Next() drains.
class GrpcEventStream final : public ContainerEventStream {
 public:
  explicit GrpcEventStream(cri::RuntimeService::Stub* stub) {
    reader_ = stub->GetContainerEvents(&context_, cri::GetEventsRequest());
    thread_ = std::thread([this] {
      cri::ContainerEventResponse event;
      while (reader_->Read(&event)) {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(event);
        cv_.notify_all();
      }
      (void)reader_->Finish();
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~GrpcEventStream() override {
    context_.TryCancel();
    thread_.join();
  }

  std::optional<cri::ContainerEventResponse> Next(absl::Duration timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return ended_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    auto event = std::move(queue_.front());
    queue_.pop_front();
    return event;
  }
  bool ended() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_ && queue_.empty();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<cri::ContainerEventResponse>> reader_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<cri::ContainerEventResponse> queue_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<RemoteRuntime> RemoteRuntime::Connect(const std::string& endpoint, Options options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  auto channel = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<RemoteRuntime>(new RemoteRuntime(std::move(channel), options));
}

RemoteRuntime::RemoteRuntime(std::shared_ptr<grpc::Channel> channel, Options options)
    : channel_(std::move(channel)),
      runtime_(cri::RuntimeService::NewStub(channel_)),
      images_(cri::ImageService::NewStub(channel_)),
      options_(options) {}

std::unique_ptr<grpc::ClientContext> RemoteRuntime::Context(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

#define BERTH_AGENT_REMOTE_CALL(stub, Name, timeout)                                      \
  absl::Status RemoteRuntime::Name(const cri::Name##Request& req, cri::Name##Response* resp) { \
    auto context = Context(timeout);                                                      \
    return FromGrpc(stub->Name(context.get(), req, resp), #Name);                         \
  }
#define BERTH_AGENT_REMOTE_RUNTIME_CALL(Name) BERTH_AGENT_REMOTE_CALL(runtime_, Name, options_.call_timeout)
#define BERTH_AGENT_REMOTE_IMAGE_CALL(Name)                                                \
  BERTH_AGENT_REMOTE_CALL(images_, Name,                                                   \
                          (std::string_view(#Name) == "PullImage" ? options_.pull_timeout  \
                                                                  : options_.call_timeout))
BERTH_AGENT_RUNTIME_CALLS(BERTH_AGENT_REMOTE_RUNTIME_CALL)
BERTH_AGENT_IMAGE_CALLS(BERTH_AGENT_REMOTE_IMAGE_CALL)
#undef BERTH_AGENT_REMOTE_IMAGE_CALL
#undef BERTH_AGENT_REMOTE_RUNTIME_CALL
#undef BERTH_AGENT_REMOTE_CALL

absl::StatusOr<std::unique_ptr<ContainerEventStream>> RemoteRuntime::GetContainerEvents() {
  return std::make_unique<GrpcEventStream>(runtime_.get());
}

}  // namespace berth::agent
