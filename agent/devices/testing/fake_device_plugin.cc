#include "agent/devices/testing/fake_device_plugin.h"

#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"

namespace berth::agent::devices {

class FakeDevicePlugin::Service final : public v1beta1::DevicePlugin::Service {
 public:
  explicit Service(FakeDevicePlugin* plugin) : p_(plugin) {}

  grpc::Status GetDevicePluginOptions(grpc::ServerContext*, const v1beta1::Empty*,
                                      v1beta1::DevicePluginOptions* out) override {
    out->set_pre_start_required(p_->options_.pre_start_required);
    out->set_get_preferred_allocation_available(p_->options_.preferred_allocation);
    return grpc::Status::OK;
  }

  grpc::Status ListAndWatch(grpc::ServerContext* context, const v1beta1::Empty*,
                            grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) override {
    ++p_->streams_;
    std::unique_lock<std::mutex> lock(p_->mu_);
    uint64_t sent = ~uint64_t{0};
    while (!p_->stopping_ && !context->IsCancelled()) {
      if (sent != p_->version_) {
        sent = p_->version_;
        v1beta1::ListAndWatchResponse list = p_->ListLocked();
        lock.unlock();
        bool ok = writer->Write(list);
        lock.lock();
        if (!ok) break;
        p_->cv_.notify_all();
        continue;
      }
      p_->cv_.wait(lock);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetPreferredAllocation(grpc::ServerContext*, const v1beta1::PreferredAllocationRequest* request,
                                      v1beta1::PreferredAllocationResponse* out) override {
    ++p_->preferred_calls_;
    for (const auto& c : request->container_requests()) {
      auto* r = out->add_container_responses();
      for (const auto& id : c.must_include_deviceids()) r->add_deviceids(id);
      for (int i = c.available_deviceids_size() - 1; i >= 0 && r->deviceids_size() < c.allocation_size(); --i) {
        const std::string& id = c.available_deviceids(i);
        bool have = false;
        for (const auto& h : r->deviceids()) have |= h == id;
        if (!have) r->add_deviceids(id);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Allocate(grpc::ServerContext*, const v1beta1::AllocateRequest* request,
                        v1beta1::AllocateResponse* out) override {
    ++p_->allocate_calls_;
    for (const auto& c : request->container_requests()) {
      std::vector<std::string> ids(c.devices_ids().begin(), c.devices_ids().end());
      {
        std::lock_guard<std::mutex> lock(p_->mu_);
        for (const auto& id : ids) {
          if (!p_->health_.count(id)) {
            return grpc::Status(grpc::INVALID_ARGUMENT, absl::StrCat("unknown device ", id));
          }
        }
      }
      if (p_->options_.allocate) {
        *out->add_container_responses() = p_->options_.allocate(ids);
      } else {
        auto* r = out->add_container_responses();
        (*r->mutable_envs())["WIDGET_IDS"] = absl::StrJoin(ids, ",");
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status PreStartContainer(grpc::ServerContext*, const v1beta1::PreStartContainerRequest* request,
                                 v1beta1::PreStartContainerResponse*) override {
    std::vector<std::string> ids(request->devices_ids().begin(), request->devices_ids().end());
    {
      std::lock_guard<std::mutex> lock(p_->mu_);
      p_->pre_starts_.push_back(ids);
    }
    if (p_->options_.on_pre_start) p_->options_.on_pre_start(ids);
    return grpc::Status::OK;
  }

 private:
  FakeDevicePlugin* p_;
};

FakeDevicePlugin::FakeDevicePlugin(FakeDevicePluginOptions options) : options_(std::move(options)) {
  for (const auto& id : options_.device_ids) health_[id] = true;
}

FakeDevicePlugin::~FakeDevicePlugin() { Stop(); }

absl::Status FakeDevicePlugin::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  const std::string path = options_.plugins_dir + "/" + options_.endpoint;
  unlink(path.c_str());
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + path, grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) return absl::UnavailableError(absl::StrCat("fake device plugin: cannot listen on ", path));
  return absl::OkStatus();
}

absl::Status FakeDevicePlugin::Register(absl::Duration timeout) {
  // kubelet.sock appears (bind) a moment before the agent listens on it: a
  // refused first dial is retried after 20 ms, not gRPC's default 1 s.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  auto channel = grpc::CreateCustomChannel("unix://" + options_.plugins_dir + "/kubelet.sock",
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1beta1::Registration::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  context.set_wait_for_ready(true);
  v1beta1::RegisterRequest request;
  request.set_version("v1beta1");
  request.set_endpoint(options_.endpoint);
  request.set_resource_name(options_.resource);
  request.mutable_options()->set_pre_start_required(options_.pre_start_required);
  request.mutable_options()->set_get_preferred_allocation_available(options_.preferred_allocation);
  v1beta1::Empty empty;
  grpc::Status st = stub->Register(&context, request, &empty);
  if (st.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
}

void FakeDevicePlugin::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_.reset();
    unlink((options_.plugins_dir + "/" + options_.endpoint).c_str());
  }
}

void FakeDevicePlugin::SetHealthy(const std::string& id, bool healthy) {
  std::lock_guard<std::mutex> lock(mu_);
  health_[id] = healthy;
  ++version_;
  cv_.notify_all();
}

void FakeDevicePlugin::Resend() {
  std::lock_guard<std::mutex> lock(mu_);
  ++version_;
  cv_.notify_all();
}

std::vector<std::vector<std::string>> FakeDevicePlugin::pre_start_calls() {
  std::lock_guard<std::mutex> lock(mu_);
  return pre_starts_;
}

bool FakeDevicePlugin::WaitForStreams(int n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return streams_ >= n; });
}

v1beta1::ListAndWatchResponse FakeDevicePlugin::ListLocked() const {
  v1beta1::ListAndWatchResponse out;
  for (const auto& [id, healthy] : health_) {
    auto* d = out.add_devices();
    d->set_id(id);
    d->set_health(healthy ? "Healthy" : "Unhealthy");
  }
  return out;
}

}  // namespace berth::agent::devices
