// PluginEndpoint: the agent's connection to one registered device plugin.
// Its own thread dials <device-plugins dir>/<endpoint>, calls
// GetDevicePluginOptions, then reads ListAndWatch until the stream ends (the
// plugin exited, its socket went away, or Stop). Allocation RPCs are called
// from the caller's thread with a deadline.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/deviceplugin/api.grpc.pb.h"

namespace grpc {
class ClientContext;
}

namespace berth::agent::devices {

class PluginEndpoint {
 public:
  // Each gets the endpoint it comes from.
  struct Callbacks {
    // GetDevicePluginOptions answered; ListAndWatch starts next.
    std::function<void(PluginEndpoint*, const v1beta1::DevicePluginOptions&)> connected;
    // Every ListAndWatch message: the plugin's whole device list.
    std::function<void(PluginEndpoint*, const std::vector<v1beta1::Device>&)> devices;
    // The connection failed or the stream ended (not called after Stop).
    std::function<void(PluginEndpoint*, const absl::Status&)> ended;
  };

  PluginEndpoint(std::string resource, std::string socket_path, absl::Duration rpc_timeout, Callbacks callbacks);
  ~PluginEndpoint();  // Stop()

  void Start();
  // Cancels the stream and joins the thread. Never call it from a callback.
  void Stop();

  const std::string& resource() const { return resource_; }
  const std::string& socket_path() const { return socket_path_; }
  // The socket's inode when the endpoint was made (a plugin that restarted
  // made a new socket: a new inode).
  ino_t socket_inode() const { return socket_inode_; }
  // Connecting or streaming; false once the stream ended.
  bool live() const { return live_; }

  absl::StatusOr<v1beta1::PreferredAllocationResponse> GetPreferredAllocation(
      const v1beta1::PreferredAllocationRequest& request);
  absl::StatusOr<v1beta1::AllocateResponse> Allocate(const v1beta1::AllocateRequest& request);
  absl::Status PreStartContainer(const v1beta1::PreStartContainerRequest& request);

 private:
  void Run();
  absl::Status Call(const char* method, const std::function<grpc::Status(grpc::ClientContext*)>& rpc);

  const std::string resource_;
  const std::string socket_path_;
  const absl::Duration rpc_timeout_;
  Callbacks callbacks_;
  ino_t socket_inode_ = 0;
  std::unique_ptr<v1beta1::DevicePlugin::Stub> stub_;
  std::atomic<bool> live_{true};
  std::atomic<bool> stopping_{false};
  std::mutex context_mu_;
  grpc::ClientContext* stream_context_ = nullptr;  // guarded by context_mu_
  std::thread thread_;
};

}  // namespace berth::agent::devices
