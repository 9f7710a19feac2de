// berth-gpu-plugin, the real binary, over a fake device tree against a fake
// Registration server: registration, ListAndWatch, health files toggling a
// GPU and its recovery, Allocate, GetPreferredAllocation, time-slicing
// reloads (a bad one kept out), re-registration when kubelet.sock is made
// again, a clean exit on SIGTERM, and non-zero exits on bad flags/config.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/deviceplugin/api.grpc.pb.h"
#include "common/fs.h"
#include "device-plugin/fake_gpu_tree.h"

extern char** environ;

namespace berth::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(15);

// Registration served by the test, counting Register calls.
class FakeRegistration final : public v1beta1::Registration::Service {
 public:
  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* req, v1beta1::Empty*) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(*req);
    cv_.notify_all();
    return grpc::Status::OK;
  }
  bool WaitForRegistrations(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, Clock::now() + kDeadline, [&] { return requests_.size() >= n; });
  }
  v1beta1::RegisterRequest Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.back();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1beta1::RegisterRequest> requests_;
};

struct RegistrationServer {
  FakeRegistration service;
  std::unique_ptr<grpc::Server> server;
  explicit RegistrationServer(const std::string& socket) {
    unlink(socket.c_str());
    grpc::ServerBuilder b;
    b.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
    b.RegisterService(&service);
    server = b.BuildAndStart();
  }
  ~RegistrationServer() { server->Shutdown(); }
};

// The plugin process; stderr goes to a file the test reads.
class PluginProcess {
 public:
  PluginProcess(const std::vector<std::string>& args, const std::string& log) {
    std::vector<char*> argv;
    std::string path = BERTH_GPU_PLUGIN_PATH;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    pidfd_ = pid_ > 0 ? static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)) : -1;
  }
  ~PluginProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      Wait(std::chrono::seconds(10));
    }
    if (pidfd_ >= 0) close(pidfd_);
  }
  bool started() const { return pid_ > 0 && pidfd_ >= 0; }
  void Signal(int sig) { kill(pid_, sig); }
  // The exit code, or -1 if it has not exited within `timeout`.
  int Wait(std::chrono::milliseconds timeout) {
    struct pollfd p = {pidfd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool exited_ = false;
};

// Reads ListAndWatch into a queue.
class ListWatcher {
 public:
  explicit ListWatcher(v1beta1::DevicePlugin::Stub* stub) {
    reader_ = stub->ListAndWatch(&ctx_, v1beta1::Empty());
    thread_ = std::thread([this] {
      v1beta1::ListAndWatchResponse r;
      while (reader_->Read(&r)) {
        std::lock_guard<std::mutex> lock(mu_);
        lists_.push_back(r);
        cv_.notify_all();
      }
    });
  }
  ~ListWatcher() {
    ctx_.TryCancel();
    thread_.join();
  }
  // The next list sent, as "id" / "id!" (unhealthy); empty on timeout.
  std::vector<std::string> Next() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, Clock::now() + kDeadline, [&] { return !lists_.empty(); })) return {"<timeout>"};
    v1beta1::ListAndWatchResponse r = lists_.front();
    lists_.pop_front();
    std::vector<std::string> out;
    for (const auto& d : r.devices()) out.push_back(d.id() + (d.health() == "Healthy" ? "" : "!"));
    return out;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1beta1::ListAndWatchResponse>> reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1beta1::ListAndWatchResponse> lists_;
  std::thread thread_;
};

// Allocate for one container with these ids.
grpc::Status AllocateOne(v1beta1::DevicePlugin::Stub* stub, const std::vector<std::string>& ids,
                         v1beta1::ContainerAllocateResponse* out) {
  grpc::ClientContext ctx;
  v1beta1::AllocateRequest req;
  auto* container = req.add_container_requests();
  for (const auto& id : ids) container->add_devices_ids(id);
  v1beta1::AllocateResponse resp;
  grpc::Status s = stub->Allocate(&ctx, req, &resp);
  if (s.ok() && resp.container_responses_size() == 1) *out = resp.container_responses(0);
  return s;
}

class GpuPluginIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = FakeGpuTree::CreateWithTwoGpus();
    ASSERT_TRUE(t.ok()) << t.status();
    tree_ = *std::move(t);
    ASSERT_TRUE(tree_->AddFile("/usr/lib/x86_64-linux-gnu/libcuda.so.1").ok());
    ASSERT_TRUE(tree_->AddFile("/usr/bin/nvidia-smi", "#!/bin/sh\n", 0755).ok());
    ASSERT_TRUE(tree_->AddFile("/etc/berth/gpu.yaml", "version: v1\n").ok());
    dir_ = tree_->root() + "/plugins";
    ASSERT_TRUE(MkdirAll(dir_).ok());
  }

  std::vector<std::string> Args() const {
    const std::string& r = tree_->root();
    return {"--root", r, "--device-plugin-path", dir_, "--cdi-spec", r + "/var/run/cdi/berth-nvidia.json",
            "--config", r + "/etc/berth/gpu.yaml", "--health-dir", r + "/health", "--nvml", "off"};
  }
  std::string Log() const {
    auto text = ReadFile(tree_->root() + "/plugin.log");
    return text.ok() ? *text : "";
  }
  // Polls the log (a file) until it has `text` or the deadline passes.
  bool WaitForLog(const std::string& text) const {
    auto deadline = Clock::now() + kDeadline;
    while (Log().find(text) == std::string::npos) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  void Write(const std::string& path, const std::string& content) {
    ASSERT_TRUE(AtomicWriteFile(tree_->root() + path, content, 0644, false).ok());
  }

  std::unique_ptr<FakeGpuTree> tree_;
  std::string dir_;
};

TEST_F(GpuPluginIntegrationTest, RegistersServesAndFollowsChanges) {
  auto registration = std::make_unique<RegistrationServer>(dir_ + "/kubelet.sock");
  PluginProcess plugin(Args(), tree_->root() + "/plugin.log");
  ASSERT_TRUE(plugin.started());

  // Register.
  ASSERT_TRUE(registration->service.WaitForRegistrations(1)) << Log();
  v1beta1::RegisterRequest reg = registration->service.Last();
  EXPECT_EQ(reg.version(), "v1beta1");
  EXPECT_EQ(reg.endpoint(), "berth-gpu.sock");
  EXPECT_EQ(reg.resource_name(), "nvidia.com/gpu");
  EXPECT_TRUE(reg.options().get_preferred_allocation_available());
  EXPECT_THAT(Log(), HasSubstr("GPUs found count=2 source=proc"));

  auto channel = grpc::CreateChannel("unix:" + dir_ + "/berth-gpu.sock", grpc::InsecureChannelCredentials());
  auto stub = v1beta1::DevicePlugin::NewStub(channel);
  {
    grpc::ClientContext ctx;
    v1beta1::DevicePluginOptions options;
    ASSERT_TRUE(stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &options).ok());
    EXPECT_TRUE(options.get_preferred_allocation_available());
  }

  // ListAndWatch: the full list first.
  ListWatcher watch(stub.get());
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa", "GPU-bbbb"));

  // Health: a critical Xid in the health file takes GPU 0 out, a
  // non-critical one does not, and removing the file brings it back.
  Write("/health/GPU-aaaa", "xid 79\n");
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa!", "GPU-bbbb"));
  Write("/health/1", "xid 13\n");  // by index; application error: ignored
  Write("/health/1", "unhealthy: fan\n");
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa!", "GPU-bbbb!"));
  ASSERT_EQ(unlink((tree_->root() + "/health/GPU-aaaa").c_str()), 0);
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa", "GPU-bbbb!"));
  Write("/health/1", "healthy\n");
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa", "GPU-bbbb"));

  // Allocate.
  {
    v1beta1::ContainerAllocateResponse c;
    ASSERT_TRUE(AllocateOne(stub.get(), {"GPU-bbbb"}, &c).ok());
    EXPECT_EQ(c.envs().at("NVIDIA_VISIBLE_DEVICES"), "GPU-bbbb");
    std::vector<std::string> paths;
    for (const auto& d : c.devices()) paths.push_back(d.container_path());
    EXPECT_THAT(paths, ElementsAre("/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"));
    EXPECT_EQ(c.devices(0).host_path(), tree_->root() + "/dev/nvidia1");
    ASSERT_EQ(c.cdi_devices_size(), 1);
    EXPECT_EQ(c.cdi_devices(0).name(), "nvidia.com/gpu=GPU-bbbb");
  }
  {
    v1beta1::ContainerAllocateResponse c;
    grpc::Status s = AllocateOne(stub.get(), {"GPU-nope"}, &c);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("GPU-nope"));
  }
  {
    grpc::ClientContext ctx;
    v1beta1::PreferredAllocationRequest req;
    auto* c = req.add_container_requests();
    c->add_available_deviceids("GPU-bbbb");
    c->add_available_deviceids("GPU-aaaa");
    c->set_allocation_size(1);
    v1beta1::PreferredAllocationResponse resp;
    ASSERT_TRUE(stub->GetPreferredAllocation(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.container_responses_size(), 1);
    EXPECT_THAT(std::vector<std::string>(resp.container_responses(0).deviceids().begin(),
                                         resp.container_responses(0).deviceids().end()),
                ElementsAre("GPU-aaaa"));
  }

  // Allocate round trips over the unix socket (the agent's cost per container).
  {
    std::vector<double> ms;
    for (int i = 0; i < 200; ++i) {
      auto start = Clock::now();
      v1beta1::ContainerAllocateResponse c;
      ASSERT_TRUE(AllocateOne(stub.get(), {i % 2 ? "GPU-aaaa" : "GPU-bbbb"}, &c).ok());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::cout << "Allocate round trip over 200 calls: p50 " << ms[100] << " ms, p99 " << ms[198] << " ms\n";
    EXPECT_LT(ms[100], 50);
  }

  // The CDI spec was written.
  auto spec_text = ReadFile(tree_->root() + "/var/run/cdi/berth-nvidia.json");
  ASSERT_TRUE(spec_text.ok());
  nlohmann::json spec = nlohmann::json::parse(*spec_text);
  EXPECT_EQ(spec["kind"], "nvidia.com/gpu");
  EXPECT_EQ(spec["devices"].size(), 4u);
  EXPECT_EQ(spec["containerEdits"]["mounts"].size(), 2u);

  // Time-slicing: GPU 1 as 3 replicas, re-read without a restart.
  Write("/etc/berth/gpu.yaml", R"(version: v1
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 3
      devices: [1]
)");
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa", "GPU-bbbb::0", "GPU-bbbb::1", "GPU-bbbb::2"));
  // A bad config is logged and the old one kept; the next good one applies.
  Write("/etc/berth/gpu.yaml", "sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: -1\n");
  ASSERT_TRUE(WaitForLog("keeping the previous one")) << Log();
  Write("/etc/berth/gpu.yaml", "sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 2\n");
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-aaaa::0", "GPU-aaaa::1", "GPU-bbbb::0", "GPU-bbbb::1"));
  EXPECT_THAT(Log(), HasSubstr("sharing.timeSlicing.resources[0].replicas"));
  EXPECT_THAT(Log(), HasSubstr("keeping the previous one"));
  {
    v1beta1::ContainerAllocateResponse c;
    ASSERT_TRUE(AllocateOne(stub.get(), {"GPU-aaaa::1"}, &c).ok());
    EXPECT_EQ(c.envs().at("NVIDIA_VISIBLE_DEVICES"), "GPU-aaaa");
  }

  // The agent restarts: kubelet.sock is made again, the plugin registers again.
  registration.reset();  // gRPC removes the socket file on shutdown
  unlink((dir_ + "/kubelet.sock").c_str());
  ASSERT_FALSE(PathExists(dir_ + "/kubelet.sock"));
  auto recreated = Clock::now();
  registration = std::make_unique<RegistrationServer>(dir_ + "/kubelet.sock");
  ASSERT_TRUE(registration->service.WaitForRegistrations(1)) << Log();
  auto reregister_ms = std::chrono::duration<double, std::milli>(Clock::now() - recreated).count();
  std::cout << "re-registered " << reregister_ms << " ms after kubelet.sock was made again\n";
  EXPECT_LT(reregister_ms, 1000);
  EXPECT_EQ(registration->service.Last().endpoint(), "berth-gpu.sock");

  // Our socket removed (as a kubelet clears the dir on start): served again and registered again.
  ASSERT_EQ(unlink((dir_ + "/berth-gpu.sock").c_str()), 0);
  ASSERT_TRUE(registration->service.WaitForRegistrations(2)) << Log();
  EXPECT_TRUE(PathExists(dir_ + "/berth-gpu.sock"));
  {
    auto again = v1beta1::DevicePlugin::NewStub(
        grpc::CreateChannel("unix:" + dir_ + "/berth-gpu.sock", grpc::InsecureChannelCredentials()));
    v1beta1::ContainerAllocateResponse c;
    EXPECT_TRUE(AllocateOne(again.get(), {"GPU-aaaa"}, &c).ok());
  }

  // SIGTERM: a clean exit that removes the socket.
  plugin.Signal(SIGTERM);
  EXPECT_EQ(plugin.Wait(std::chrono::seconds(10)), 0) << Log();
  EXPECT_FALSE(PathExists(dir_ + "/berth-gpu.sock"));
}

TEST_F(GpuPluginIntegrationTest, RegistersWhenKubeletSocketAppearsLater) {
  PluginProcess plugin(Args(), tree_->root() + "/plugin.log");
  ASSERT_TRUE(plugin.started());
  // The plugin serves before anyone listens on kubelet.sock.
  auto deadline = Clock::now() + kDeadline;
  while (!PathExists(dir_ + "/berth-gpu.sock") && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(PathExists(dir_ + "/berth-gpu.sock")) << Log();
  RegistrationServer registration(dir_ + "/kubelet.sock");
  ASSERT_TRUE(registration.service.WaitForRegistrations(1)) << Log();
}

// The NVML path, over a fake libnvidia-ml.so: discovery with NVLinks, Xid
// events (critical and not) and recovery once the GPU answers again.
TEST_F(GpuPluginIntegrationTest, NvmlDiscoveryXidHealthAndRecovery) {
  const std::string& r = tree_->root();
  ASSERT_TRUE(tree_->AddFile("/nvml/events", "").ok());
  ASSERT_TRUE(MkdirAll(r + "/nvml/lost").ok());
  nlohmann::json config = {
      {"driver", "535.104.05"},
      {"gpus",
       {{{"uuid", "GPU-n0"}, {"minor", 0}, {"bus_id", "00000000:01:00.0"}, {"name", "NVIDIA A100-SXM4-40GB"}},
        {{"uuid", "GPU-n1"}, {"minor", 1}, {"bus_id", "00000000:02:00.0"}},
        {{"uuid", "GPU-n2"}, {"minor", 2}, {"bus_id", "00000000:03:00.0"}}}},
      {"nvlinks", {{1, 2, 4}}},
      {"events", r + "/nvml/events"},
      {"lost", r + "/nvml/lost"}};
  ASSERT_TRUE(tree_->AddFile("/nvml/config.json", config.dump()).ok());
  ASSERT_TRUE(tree_->AddGpu("0000:03:00.0", "GPU-unused", 2).ok());  // makes /dev/nvidia2
  setenv("BERTH_FAKE_NVML", (r + "/nvml/config.json").c_str(), 1);
  std::vector<std::string> args = Args();
  args.back() = "on";  // --nvml on
  for (const char* extra : {"--nvml-library", BERTH_FAKE_NVML_PATH, "--xid-recovery-period", "1s"}) {
    args.push_back(extra);
  }
  RegistrationServer registration(dir_ + "/kubelet.sock");
  PluginProcess plugin(args, r + "/plugin.log");
  unsetenv("BERTH_FAKE_NVML");
  ASSERT_TRUE(plugin.started());
  ASSERT_TRUE(registration.service.WaitForRegistrations(1)) << Log();
  EXPECT_THAT(Log(), HasSubstr("GPUs found count=3 source=nvml"));
  EXPECT_THAT(Log(), HasSubstr("driver=535.104.05 nvlinks=yes"));

  auto stub = v1beta1::DevicePlugin::NewStub(
      grpc::CreateChannel("unix:" + dir_ + "/berth-gpu.sock", grpc::InsecureChannelCredentials()));
  ListWatcher watch(stub.get());
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-n0", "GPU-n1", "GPU-n2"));

  // NVLink-aware: 1 and 2 are linked, so two GPUs means those two, not 0 and 1.
  {
    grpc::ClientContext ctx;
    v1beta1::PreferredAllocationRequest req;
    auto* c = req.add_container_requests();
    for (const char* id : {"GPU-n0", "GPU-n1", "GPU-n2"}) c->add_available_deviceids(id);
    c->set_allocation_size(2);
    v1beta1::PreferredAllocationResponse resp;
    ASSERT_TRUE(stub->GetPreferredAllocation(&ctx, req, &resp).ok());
    EXPECT_THAT(std::vector<std::string>(resp.container_responses(0).deviceids().begin(),
                                         resp.container_responses(0).deviceids().end()),
                ::testing::UnorderedElementsAre("GPU-n1", "GPU-n2"));
  }

  // Xid 13 (an application error) is ignored; Xid 79 on GPU 1 (fallen off
  // the bus) is not. Events are handled in order, so the first list after
  // both shows only GPU 1 out.
  ASSERT_TRUE(tree_->AddFile("/nvml/lost/1", "").ok());
  {
    std::ofstream events(r + "/nvml/events", std::ios::app);
    events << "0 13\n1 79\n";
  }
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-n0", "GPU-n1!", "GPU-n2"));
  // While NVML cannot reach it, it stays out; once it answers again and no
  // critical Xid came for the recovery period, it is back, no restart.
  ASSERT_EQ(unlink((r + "/nvml/lost/1").c_str()), 0);
  EXPECT_THAT(watch.Next(), ElementsAre("GPU-n0", "GPU-n1", "GPU-n2"));
  EXPECT_THAT(Log(), HasSubstr("GPU healthy again index=1"));

  // Allocate uses the NVML minor numbers for the device nodes.
  {
    v1beta1::ContainerAllocateResponse c;
    ASSERT_TRUE(AllocateOne(stub.get(), {"GPU-n2"}, &c).ok());
    EXPECT_EQ(c.devices(0).container_path(), "/dev/nvidia2");
  }
}

TEST_F(GpuPluginIntegrationTest, BadConfigAtStartExitsNonZeroNamingTheKey) {
  Write("/etc/berth/gpu.yaml", "sharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 2\n      devices: [5]\n");
  PluginProcess plugin(Args(), tree_->root() + "/plugin.log");
  ASSERT_TRUE(plugin.started());
  EXPECT_EQ(plugin.Wait(std::chrono::seconds(10)), 1);
  EXPECT_THAT(Log(), HasSubstr("sharing.timeSlicing.resources[0].devices[0]: no GPU with index 5"));
  EXPECT_FALSE(PathExists(dir_ + "/berth-gpu.sock"));
}

TEST_F(GpuPluginIntegrationTest, BadFlagsExitNonZeroNamingThem) {
  std::vector<std::string> args = Args();
  args.push_back("--critical-xids=79,x");
  PluginProcess bad_xids(args, tree_->root() + "/plugin.log");
  EXPECT_EQ(bad_xids.Wait(std::chrono::seconds(10)), 2);
  EXPECT_THAT(Log(), HasSubstr("--critical-xids: \"x\""));
  PluginProcess unknown({"--gpus", "all"}, tree_->root() + "/plugin.log");
  EXPECT_EQ(unknown.Wait(std::chrono::seconds(10)), 2);
  EXPECT_THAT(Log(), HasSubstr("unknown flag --gpus"));
}

}  // namespace
}  // namespace berth::gpu
