#include "device-plugin/gpu_plugin.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "device-plugin/cdi_spec.h"
#include "device-plugin/driver_files.h"
#include "device-plugin/health_files.h"
#include "device-plugin/nvml_discovery.h"
#include "device-plugin/proc_discovery.h"
#include "device-plugin/registration_client.h"
#include "device-plugin/sharing_config.h"

namespace berth::gpu {
namespace {

constexpr absl::Duration kRegisterTimeout = absl::Seconds(5);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(30);

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void LogInventory(const Inventory& inv, const std::string& root) {
  BERTH_LOG(Info) << "GPUs found" << Kv("count", static_cast<long long>(inv.gpus.size())) << Kv("source", inv.source)
                  << Kv("root", root) << Kv("driver", inv.driver_version.empty() ? "unknown" : inv.driver_version)
                  << Kv("nvlinks", inv.topology.HasNvlinks() ? "yes" : "no");
  for (const auto& g : inv.gpus) {
    BERTH_LOG(Info) << "GPU" << Kv("index", g.index) << Kv("uuid", g.uuid) << Kv("minor", g.minor)
                    << Kv("model", g.model) << Kv("pci", g.pci_bus_id)
                    << Kv("memory_mib", static_cast<long long>(g.memory_bytes >> 20)) << Kv("numa", g.numa_node)
                    << Kv("device", g.device_path) << Kv("node_present", PathExists(g.device_path) ? "yes" : "no");
  }
}

}  // namespace

GpuPlugin::GpuPlugin(PluginFlags flags, XidPolicy policy) : flags_(std::move(flags)), policy_(std::move(policy)) {}

GpuPlugin::~GpuPlugin() {
  StopServer();
  nvml_health_.reset();
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (timer_fd_ >= 0) close(timer_fd_);
}

absl::StatusOr<std::unique_ptr<GpuPlugin>> GpuPlugin::Create(const PluginFlags& flags) {
  ASSIGN_OR_RETURN(XidPolicy policy, XidPolicy::Parse(flags.critical_xids, flags.ignored_xids));
  std::unique_ptr<GpuPlugin> p(new GpuPlugin(flags, policy));

  bool try_nvml = flags.nvml == "on" || (flags.nvml == "auto" && CleanPath(flags.root) == "/");
  Inventory inventory;
  std::vector<nvml::Device> handles;
  if (try_nvml) {
    auto lib = NvmlLibrary::Load(flags.nvml_library);
    if (lib.ok()) {
      auto found = DiscoverWithNvml(**lib, flags.root);
      if (found.ok()) {
        p->nvml_ = *std::move(lib);
        inventory = std::move(found->inventory);
        handles = std::move(found->handles);
      } else if (flags.nvml == "on") {
        return Annotate(found.status(), "NVML discovery");
      } else {
        BERTH_LOG(Warning) << "NVML discovery failed; using /proc/driver/nvidia" << Kv("error", found.status().message());
      }
    } else if (flags.nvml == "on") {
      return Annotate(lib.status(), "--nvml=on");
    } else {
      BERTH_LOG(Info) << "NVML not loadable; using /proc/driver/nvidia" << Kv("error", lib.status().message());
    }
  }
  if (p->nvml_ == nullptr) {
    ASSIGN_OR_RETURN(inventory, DiscoverFromProcTree(flags.root));
  }
  LogInventory(inventory, flags.root);
  BERTH_LOG(Info) << "critical Xids" << Kv("policy", policy.Describe());
  p->state_ = std::make_unique<DeviceState>(std::move(inventory));

  if (!flags.config.empty()) {
    std::string clean = CleanPath(flags.config);
    p->config_dir_ = DirOf(clean);
    p->config_base_ = clean.substr(clean.rfind('/') + 1);
    RETURN_IF_ERROR(p->LoadConfig());
  }

  if (!flags.cdi_spec.empty()) {
    const Inventory& inv = p->state_->inventory();
    DriverFiles files = FindDriverFiles(flags.root, inv.driver_version);
    RETURN_IF_ERROR(WriteCdiSpec(flags.cdi_spec, BuildCdiSpec(inv, files, flags.root)));
    BERTH_LOG(Info) << "CDI spec written" << Kv("path", flags.cdi_spec) << Kv("kind", kCdiKind)
                    << Kv("libraries", static_cast<long long>(files.libraries.size()))
                    << Kv("binaries", static_cast<long long>(files.binaries.size()));
  }

  RETURN_IF_ERROR(Annotate(MkdirAll(flags.health_dir), "--health-dir"));
  ApplyHealthFiles(flags.health_dir, policy, p->state_.get());
  if (p->nvml_ != nullptr) {
    ASSIGN_OR_RETURN(p->nvml_health_, NvmlHealthMonitor::Start(p->nvml_.get(), std::move(handles), p->state_.get(),
                                                               policy, flags.xid_recovery_period));
  }
  return p;
}

absl::Status GpuPlugin::LoadConfig() {
  auto text = ReadFile(flags_.config);
  if (!text.ok()) return Annotate(text.status(), absl::StrCat("--config ", flags_.config));
  auto config = ParseSharingConfig(*text, flags_.resource_name);
  if (!config.ok()) return Annotate(config.status(), absl::StrCat("--config ", flags_.config));
  auto replicas = ResolveReplicas(*config, state_->inventory().gpus);
  if (!replicas.ok()) return Annotate(replicas.status(), absl::StrCat("--config ", flags_.config));
  bool changed = state_->SetSharing(*config, *replicas);
  std::string summary;
  for (size_t i = 0; i < replicas->size(); ++i) {
    absl::StrAppend(&summary, i ? "," : "", state_->inventory().gpus[i].index, "=", (*replicas)[i]);
  }
  BERTH_LOG(Info) << "time-slicing config loaded" << Kv("file", flags_.config) << Kv("replicas", summary)
                  << Kv("changed", changed ? "yes" : "no");
  return absl::OkStatus();
}

std::string GpuPlugin::KubeletSocketPath() const { return flags_.device_plugin_path + "/" + kKubeletSocket; }

absl::Status GpuPlugin::StartServer() {
  RETURN_IF_ERROR(Annotate(MkdirAll(flags_.device_plugin_path), "--device-plugin-path"));
  std::string path = SocketPath();
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(absl::StrCat("remove old socket ", path));
  service_ = std::make_unique<GpuDevicePluginService>(state_.get(), flags_.root);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) {
    service_.reset();
    return absl::UnavailableError(absl::StrCat("cannot serve the device plugin on ", path));
  }
  BERTH_LOG(Info) << "serving DevicePlugin" << Kv("socket", path) << Kv("resource", flags_.resource_name);
  return absl::OkStatus();
}

void GpuPlugin::StopServer() {
  if (service_) service_->FinishStreams();
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_.reset();
  }
  service_.reset();
}

void GpuPlugin::Register() {
  if (!PathExists(KubeletSocketPath())) {
    BERTH_LOG(Info) << "waiting for kubelet.sock" << Kv("dir", flags_.device_plugin_path);
    return;
  }
  absl::Status s = RegisterWithKubelet(flags_.device_plugin_path, flags_.socket_name, flags_.resource_name,
                                       kRegisterTimeout);
  struct itimerspec spec = {};
  if (absl::IsAlreadyExists(s)) {
    // The agent still streams from this socket: nothing to redo.
    BERTH_LOG(Info) << "already registered" << Kv("resource", flags_.resource_name) << Kv("detail", s.message());
    retry_delay_ = absl::Seconds(1);
  } else if (s.ok()) {
    BERTH_LOG(Info) << "registered" << Kv("resource", flags_.resource_name) << Kv("endpoint", flags_.socket_name);
    retry_delay_ = absl::Seconds(1);
  } else {
    BERTH_LOG(Warning) << "registration failed; retrying" << Kv("error", s.message())
                       << Kv("in", absl::FormatDuration(retry_delay_));
    spec.it_value = absl::ToTimespec(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
  }
  timerfd_settime(timer_fd_, 0, &spec, nullptr);  // disarms on success
}

void GpuPlugin::HandleInotify() {
  alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
  bool reregister = false, restart = false, reload = false, health = false;
  while (true) {
    ssize_t n = read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      std::string name = ev->len ? ev->name : "";
      if (ev->mask & IN_Q_OVERFLOW) {
        // Events were lost: read the config and health files again.
        reload = health = true;
      }
      if (ev->wd == plugins_wd_) {
        if (name == kKubeletSocket && (ev->mask & (IN_CREATE | IN_MOVED_TO))) reregister = true;
        if (name == flags_.socket_name && (ev->mask & (IN_DELETE | IN_MOVED_FROM))) restart = true;
      }
      if (ev->wd == config_wd_ && (name == config_base_ || absl::StartsWith(name, ".."))) reload = true;
      if (ev->wd == health_wd_) health = true;
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
  if (restart && !PathExists(SocketPath())) {
    BERTH_LOG(Warning) << "our socket was removed; serving again" << Kv("socket", SocketPath());
    StopServer();
    if (auto s = StartServer(); !s.ok()) {
      BERTH_LOG(Error) << "cannot serve again" << Kv("error", s.message());
    }
    reregister = true;
  }
  if (reregister) {
    BERTH_LOG(Info) << "kubelet.sock (re)created; registering" << Kv("dir", flags_.device_plugin_path);
    retry_delay_ = absl::Seconds(1);
    Register();
  }
  if (reload && PathExists(flags_.config)) {
    if (auto s = LoadConfig(); !s.ok()) {
      BERTH_LOG(Error) << "time-slicing config not reloaded; keeping the previous one" << Kv("error", s.message());
    }
  }
  if (health) ApplyHealthFiles(flags_.health_dir, policy_, state_.get());
}

absl::Status GpuPlugin::Run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) return ErrnoError("signalfd");
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) return ErrnoError("inotify_init1");
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) return ErrnoError("timerfd_create");

  RETURN_IF_ERROR(StartServer());
  plugins_wd_ = inotify_add_watch(inotify_fd_, flags_.device_plugin_path.c_str(),
                                  IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
  if (plugins_wd_ < 0) return ErrnoError(absl::StrCat("inotify watch ", flags_.device_plugin_path));
  constexpr uint32_t kFileEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ONLYDIR;
  if (!config_dir_.empty()) {
    config_wd_ = inotify_add_watch(inotify_fd_, config_dir_.c_str(), kFileEvents);
    if (config_wd_ < 0) return ErrnoError(absl::StrCat("inotify watch ", config_dir_));
  }
  health_wd_ = inotify_add_watch(inotify_fd_, flags_.health_dir.c_str(), kFileEvents);
  if (health_wd_ < 0) return ErrnoError(absl::StrCat("inotify watch ", flags_.health_dir));
  // Files changed between Create() and the watches.
  ApplyHealthFiles(flags_.health_dir, policy_, state_.get());
  Register();

  while (true) {
    struct pollfd fds[3] = {{signal_fd, POLLIN, 0}, {inotify_fd_, POLLIN, 0}, {timer_fd_, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(signal_fd);
      return ErrnoError(err, "poll");
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      if (read(signal_fd, &info, sizeof info) == sizeof info) {
        BERTH_LOG(Info) << "stopping" << Kv("signal", strsignal(static_cast<int>(info.ssi_signo)));
      }
      break;
    }
    if (fds[1].revents & POLLIN) HandleInotify();
    if (fds[2].revents & POLLIN) {
      uint64_t expirations;
      if (read(timer_fd_, &expirations, sizeof expirations) > 0) Register();
    }
  }
  close(signal_fd);
  StopServer();
  unlink(SocketPath().c_str());
  return absl::OkStatus();
}

}  // namespace berth::gpu
