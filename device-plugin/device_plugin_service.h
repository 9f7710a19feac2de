// The DevicePlugin gRPC service (device plugin API v1beta1) over a
// DeviceState, on gRPC's callback API so each ListAndWatch stream is pushed
// to when the device list changes, with no thread parked per stream.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/deviceplugin/api.grpc.pb.h"
#include "device-plugin/device_state.h"

namespace berth::gpu {

class DeviceListWriter;

class GpuDevicePluginService final : public v1beta1::DevicePlugin::CallbackService {
 public:
  // `root` is where /dev/nvidia* are looked up (--root).
  GpuDevicePluginService(DeviceState* state, std::string root);
  ~GpuDevicePluginService() override;

  // Ends every open ListAndWatch stream (before the server shuts down).
  void FinishStreams();
  size_t open_streams() const;

  // What Allocate answers for one container's device ids.
  absl::StatusOr<v1beta1::ContainerAllocateResponse> AllocateContainer(const std::vector<std::string>& ids) const;

  grpc::ServerUnaryReactor* GetDevicePluginOptions(grpc::CallbackServerContext* ctx, const v1beta1::Empty* req,
                                                   v1beta1::DevicePluginOptions* resp) override;
  grpc::ServerWriteReactor<v1beta1::ListAndWatchResponse>* ListAndWatch(grpc::CallbackServerContext* ctx,
                                                                       const v1beta1::Empty* req) override;
  grpc::ServerUnaryReactor* GetPreferredAllocation(grpc::CallbackServerContext* ctx,
                                                   const v1beta1::PreferredAllocationRequest* req,
                                                   v1beta1::PreferredAllocationResponse* resp) override;
  grpc::ServerUnaryReactor* Allocate(grpc::CallbackServerContext* ctx, const v1beta1::AllocateRequest* req,
                                     v1beta1::AllocateResponse* resp) override;
  grpc::ServerUnaryReactor* PreStartContainer(grpc::CallbackServerContext* ctx,
                                              const v1beta1::PreStartContainerRequest* req,
                                              v1beta1::PreStartContainerResponse* resp) override;

 private:
  friend class DeviceListWriter;
  void PushToStreams();
  void RemoveStream(DeviceListWriter* writer);

  DeviceState* const state_;
  const std::string root_;
  int subscription_ = 0;
  mutable std::mutex mu_;
  std::set<DeviceListWriter*> streams_;
};

}  // namespace berth::gpu
