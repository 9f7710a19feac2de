// FakeDevicePlugin: a device plugin (v1beta1) for tests, served in-process on
// <plugins_dir>/<endpoint>: a fixed list of devices whose health the test
// flips, optional GetPreferredAllocation (prefers the last available ids, so
// a test can tell it was asked) and PreStartContainer, and an Allocate answer
// made by a function of the device ids. It counts the calls it gets. The
// e2e test plugin (e2e/device_plugins/test_device_plugin.cc) is this class
// behind flags.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/deviceplugin/api.grpc.pb.h"

namespace grpc {
class Server;
}

namespace berth::agent::devices {

struct FakeDevicePluginOptions {
  std::string resource = "example.com/widget";
  std::string plugins_dir;
  std::string endpoint = "widget.sock";
  std::vector<std::string> device_ids;
  bool preferred_allocation = false;
  bool pre_start_required = false;
  // Allocate's answer for one container; default: env WIDGET_IDS=<ids joined by ','>.
  std::function<v1beta1::ContainerAllocateResponse(const std::vector<std::string>&)> allocate;
  // Called with the ids of each PreStartContainer call (after it is recorded).
  std::function<void(const std::vector<std::string>&)> on_pre_start;
};

class FakeDevicePlugin {
 public:
  explicit FakeDevicePlugin(FakeDevicePluginOptions options);
  ~FakeDevicePlugin();

  // Serves the plugin socket (replacing a stale one).
  absl::Status Start();
  // Register with the agent on <plugins_dir>/kubelet.sock.
  absl::Status Register(absl::Duration timeout = absl::Seconds(5));
  // Stops serving and removes the socket (the plugin "exits").
  void Stop();

  void SetHealthy(const std::string& id, bool healthy);
  // Streams the device list once more, unchanged.
  void Resend();

  int allocate_calls() const { return allocate_calls_; }
  int preferred_calls() const { return preferred_calls_; }
  std::vector<std::vector<std::string>> pre_start_calls();
  int list_and_watch_streams() const { return streams_; }
  // Waits for at least `n` ListAndWatch streams opened so far (false at the deadline).
  bool WaitForStreams(int n, absl::Duration timeout);
  const FakeDevicePluginOptions& options() const { return options_; }

 private:
  class Service;
  friend class Service;
  v1beta1::ListAndWatchResponse ListLocked() const;

  FakeDevicePluginOptions options_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, bool> health_;
  uint64_t version_ = 0;  // bumped on every change; streams send when it moves
  bool stopping_ = false;
  std::vector<std::vector<std::string>> pre_starts_;
  std::atomic<int> allocate_calls_{0};
  std::atomic<int> preferred_calls_{0};
  std::atomic<int> streams_{0};
};

}  // namespace berth::agent::devices
