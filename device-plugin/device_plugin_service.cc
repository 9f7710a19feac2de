#include "device-plugin/device_plugin_service.h"

#include <optional>

#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "device-plugin/cdi_spec.h"
#include "device-plugin/device_nodes.h"
#include "device-plugin/preferred_allocation.h"

namespace berth::gpu {

// One ListAndWatch stream. Push() is called with the service's lock held;
// the writer removes itself from the service (under that lock) in OnDone
// before it is deleted, so a push never reaches a deleted writer.
class DeviceListWriter final : public grpc::ServerWriteReactor<v1beta1::ListAndWatchResponse> {
 public:
  explicit DeviceListWriter(GpuDevicePluginService* service) : service_(service) {}

  void Push(const DeviceList& list) {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    if (list.generation <= queued_generation_) return;
    queued_generation_ = list.generation;
    pending_ = list;
    if (!writing_) WriteNextLocked();
  }

  void End(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    EndLocked(status);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      EndLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "ListAndWatch: write failed"));
    } else if (finishing_) {
      EndLocked(end_status_);
    } else if (pending_) {
      WriteNextLocked();
    }
  }

  void OnCancel() override { End(grpc::Status::CANCELLED); }

  void OnDone() override {
    service_->RemoveStream(this);
    delete this;
  }

 private:
  void WriteNextLocked() {
    response_.Clear();
    for (const auto& d : pending_->devices) {
      v1beta1::Device* dev = response_.add_devices();
      dev->set_id(d.id);
      dev->set_health(d.healthy ? "Healthy" : "Unhealthy");
      if (d.numa_node >= 0) dev->mutable_topology()->add_nodes()->set_id(d.numa_node);
    }
    pending_.reset();
    writing_ = true;
    StartWrite(&response_);
  }

  // Finish once, and only when no write is in flight.
  void EndLocked(const grpc::Status& status) {
    if (!finishing_) {
      finishing_ = true;
      end_status_ = status;
    }
    if (writing_ || finished_) return;
    finished_ = true;
    Finish(end_status_);
  }

  GpuDevicePluginService* const service_;
  std::mutex mu_;
  uint64_t queued_generation_ = 0;
  std::optional<DeviceList> pending_;
  v1beta1::ListAndWatchResponse response_;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status end_status_;
};

GpuDevicePluginService::GpuDevicePluginService(DeviceState* state, std::string root)
    : state_(state), root_(std::move(root)) {
  subscription_ = state_->Subscribe([this] { PushToStreams(); });
}

GpuDevicePluginService::~GpuDevicePluginService() { state_->Unsubscribe(subscription_); }

void GpuDevicePluginService::PushToStreams() {
  DeviceList list = state_->Devices();
  std::lock_guard<std::mutex> lock(mu_);
  for (DeviceListWriter* w : streams_) w->Push(list);
}

void GpuDevicePluginService::RemoveStream(DeviceListWriter* writer) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(writer);
}

void GpuDevicePluginService::FinishStreams() {
  std::lock_guard<std::mutex> lock(mu_);
  for (DeviceListWriter* w : streams_) w->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "device plugin stopping"));
}

size_t GpuDevicePluginService::open_streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

grpc::ServerUnaryReactor* GpuDevicePluginService::GetDevicePluginOptions(grpc::CallbackServerContext* ctx,
                                                                         const v1beta1::Empty*,
                                                                         v1beta1::DevicePluginOptions* resp) {
  resp->set_pre_start_required(false);
  resp->set_get_preferred_allocation_available(true);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1beta1::ListAndWatchResponse>* GpuDevicePluginService::ListAndWatch(
    grpc::CallbackServerContext*, const v1beta1::Empty*) {
  auto* writer = new DeviceListWriter(this);
  DeviceList list = state_->Devices();
  std::lock_guard<std::mutex> lock(mu_);
  streams_.insert(writer);
  writer->Push(list);
  BERTH_LOG(Info) << "ListAndWatch stream opened" << Kv("devices", static_cast<long long>(list.devices.size()));
  return writer;
}

grpc::ServerUnaryReactor* GpuDevicePluginService::GetPreferredAllocation(
    grpc::CallbackServerContext* ctx, const v1beta1::PreferredAllocationRequest* req,
    v1beta1::PreferredAllocationResponse* resp) {
  const Inventory& inv = state_->inventory();
  for (const auto& creq : req->container_requests()) {
    std::vector<std::string> available(creq.available_deviceids().begin(), creq.available_deviceids().end());
    std::vector<std::string> must(creq.must_include_deviceids().begin(), creq.must_include_deviceids().end());
    auto chosen = PreferredAllocation(inv.gpus, inv.topology, available, must, creq.allocation_size());
    auto* cresp = resp->add_container_responses();
    for (auto& id : chosen) cresp->add_deviceids(std::move(id));
  }
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

absl::StatusOr<v1beta1::ContainerAllocateResponse> GpuDevicePluginService::AllocateContainer(
    const std::vector<std::string>& ids) const {
  auto positions = state_->Resolve(ids);
  if (!positions.ok()) return positions.status();
  const Inventory& inv = state_->inventory();
  v1beta1::ContainerAllocateResponse out;
  std::vector<std::string> uuids;
  auto add_node = [&](const DeviceNode& node) {
    auto* spec = out.add_devices();
    spec->set_container_path(node.container_path);
    spec->set_host_path(node.host_path);
    spec->set_permissions("rw");
  };
  for (size_t pos : *positions) {
    const Gpu& gpu = inv.gpus[pos];
    uuids.push_back(gpu.uuid);
    if (auto node = GpuDeviceNode(root_, gpu)) add_node(*node);
    out.add_cdi_devices()->set_name(CdiDeviceName(gpu.uuid));
  }
  for (const auto& node : ControlDeviceNodes(root_)) add_node(node);
  (*out.mutable_envs())["NVIDIA_VISIBLE_DEVICES"] = absl::StrJoin(uuids, ",");
  return out;
}

grpc::ServerUnaryReactor* GpuDevicePluginService::Allocate(grpc::CallbackServerContext* ctx,
                                                           const v1beta1::AllocateRequest* req,
                                                           v1beta1::AllocateResponse* resp) {
  grpc::Status status = grpc::Status::OK;
  for (const auto& creq : req->container_requests()) {
    std::vector<std::string> ids(creq.devices_ids().begin(), creq.devices_ids().end());
    auto one = AllocateContainer(ids);
    if (!one.ok()) {
      BERTH_LOG(Warning) << "Allocate refused" << Kv("devices", absl::StrJoin(ids, ","))
                         << Kv("error", one.status().message());
      status = grpc::Status(one.status().code() == absl::StatusCode::kNotFound ? grpc::StatusCode::NOT_FOUND
                                                                               : grpc::StatusCode::INVALID_ARGUMENT,
                            std::string(one.status().message()));
      break;
    }
    BERTH_LOG(Info) << "Allocate" << Kv("devices", absl::StrJoin(ids, ","))
                    << Kv("visible", one->envs().at("NVIDIA_VISIBLE_DEVICES"));
    *resp->add_container_responses() = *std::move(one);
  }
  if (!status.ok()) resp->Clear();
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* GpuDevicePluginService::PreStartContainer(grpc::CallbackServerContext* ctx,
                                                                    const v1beta1::PreStartContainerRequest*,
                                                                    v1beta1::PreStartContainerResponse*) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace berth::gpu
