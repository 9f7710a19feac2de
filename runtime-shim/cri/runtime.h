// Runtime: CRI semantics (RuntimeService and ImageService) over berth's
// sandboxes, shims, cgroups and image store. The gRPC service (cri_service.h)
// and, later, the agent in-process call it with the CRI request messages.
//
// State lives in the state dir, written atomically, so a restarted runtime
// rebuilds its view from disk and the live shims (recovery.cc):
//   <state>/sandboxes/<id>/{config.pb,state.json,hosts,resolv.conf,hostname}
//   <state>/containers/<id>/  the shim bundle (see spec/container_spec.h) plus
//                             {container.pb,state.json}
//   <run>/sandboxes/<id>/ns/{net,ipc,uts}  pinned namespaces (gone after a reboot)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/cri/api.pb.h"
#include "runtime-shim/cgroups/cgroup_manager.h"
#include "runtime-shim/cni/cni_client.h"
#include "runtime-shim/cri/container_events.h"
#include "runtime-shim/cri/exit_watcher.h"
#include "runtime-shim/cri/name_registry.h"
#include "runtime-shim/image/image_gc.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/image/registry/puller.h"
#include "runtime-shim/streaming/streaming_server.h"

namespace berth {

namespace cri = ::runtime::v1;

struct RuntimeOptions {
  std::string state_dir = "/var/lib/berth";
  std::string run_dir = "/run/berth";
  std::string shim_path;                  // berth-shim
  std::string cgroup_parent = "/berth";   // pods without linux.cgroup_parent go below it
  CgroupOptions cgroups;
  // CNI: config dir, plugin dirs, and where attachments are cached (empty:
  // <state_dir>/cni). With no valid config, pods get a loopback-only network
  // namespace and Status reports NetworkReady false with the reason.
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_bin_dirs = {"/opt/cni/bin"};
  std::string cni_cache_dir;
  // CDI spec dirs (a later dir overrides an earlier one), read when a container asks for CDI devices.
  std::vector<std::string> cdi_spec_dirs = {"/etc/cdi", "/var/run/cdi"};
  // Registries reached over plain HTTP ("host:port"); all others use HTTPS.
  // Merged into `registries` (mirrors, auth, CA files: the registry config file).
  std::vector<std::string> insecure_registries;
  image::registry::RegistryConfig registries;
  int max_concurrent_downloads = 3;  // layers fetched at once per pull
  // Image GC (kubelet style): thresholds, minimum age, and how often it runs.
  image::ImageGcPolicy image_gc;
  absl::Duration image_gc_period = absl::Minutes(5);
  // A pull making no progress this long is cancelled (--image-pull-progress-deadline).
  absl::Duration image_pull_progress_deadline = absl::Minutes(1);
  std::string runtime_name = "berth";
  std::string runtime_version = "0.1.0";
  // The streaming server (CRI Exec/PortForward URLs): "host:port", port 0 any free one.
  std::string streaming_address = "127.0.0.1:0";
  // Container log rotation by the shims (containerLogMaxSize / containerLogMaxFiles);
  // 0: none. The agent sets it from its KubeletConfiguration (SetContainerLogRotation).
  int64_t container_log_max_size = 0;
  int32_t container_log_max_files = 0;
};

struct Sandbox {
  std::string id;
  cri::PodSandboxConfig config;
  cri::PodSandboxState state = cri::SANDBOX_READY;
  int64_t created_at = 0;
  std::string cgroup;             // cgroup name of the pod
  bool owns_cgroup = false;       // created by us (removed with the sandbox)
  std::map<std::string, std::string> namespaces;  // type -> pinned path
  std::string pidns_init_pid;     // for NamespaceMode POD
  std::vector<std::string> pod_ips;  // from CNI ADD, IPv4 first
  bool cni_attached = false;      // ADD succeeded and DEL has not run yet
  std::mutex op_mu;               // serializes operations on this sandbox
};

struct Container {
  std::string id;
  std::string sandbox_id;
  cri::ContainerConfig config;
  std::string image_ref;          // as asked
  std::string image_id;           // sha256:...
  std::string image_repo_digest;
  std::string cgroup;
  std::string log_path;           // absolute
  cri::ContainerState state = cri::CONTAINER_CREATED;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  int32_t exit_code = 0;
  std::string reason;
  std::string message;
  int init_pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  std::mutex op_mu;
};

class Runtime {
 public:
  static absl::StatusOr<std::unique_ptr<Runtime>> Open(const RuntimeOptions& options);
  ~Runtime();

  // RuntimeService.
  absl::Status Version(const cri::VersionRequest& req, cri::VersionResponse* resp);
  absl::Status Status(const cri::StatusRequest& req, cri::StatusResponse* resp);
  absl::Status RuntimeConfig(const cri::RuntimeConfigRequest& req, cri::RuntimeConfigResponse* resp);
  absl::Status UpdateRuntimeConfig(const cri::UpdateRuntimeConfigRequest& req,
                                   cri::UpdateRuntimeConfigResponse* resp);
  absl::Status RunPodSandbox(const cri::RunPodSandboxRequest& req, cri::RunPodSandboxResponse* resp);
  absl::Status StopPodSandbox(const cri::StopPodSandboxRequest& req, cri::StopPodSandboxResponse* resp);
  absl::Status RemovePodSandbox(const cri::RemovePodSandboxRequest& req,
                                cri::RemovePodSandboxResponse* resp);
  absl::Status PodSandboxStatus(const cri::PodSandboxStatusRequest& req,
                                cri::PodSandboxStatusResponse* resp);
  absl::Status ListPodSandbox(const cri::ListPodSandboxRequest& req, cri::ListPodSandboxResponse* resp);
  absl::Status CreateContainer(const cri::CreateContainerRequest& req,
                               cri::CreateContainerResponse* resp);
  absl::Status StartContainer(const cri::StartContainerRequest& req, cri::StartContainerResponse* resp);
  absl::Status StopContainer(const cri::StopContainerRequest& req, cri::StopContainerResponse* resp);
  absl::Status RemoveContainer(const cri::RemoveContainerRequest& req,
                               cri::RemoveContainerResponse* resp);
  absl::Status ListContainers(const cri::ListContainersRequest& req, cri::ListContainersResponse* resp);
  absl::Status ContainerStatus(const cri::ContainerStatusRequest& req,
                               cri::ContainerStatusResponse* resp);
  absl::Status UpdateContainerResources(const cri::UpdateContainerResourcesRequest& req,
                                        cri::UpdateContainerResourcesResponse* resp);
  absl::Status ReopenContainerLog(const cri::ReopenContainerLogRequest& req,
                                  cri::ReopenContainerLogResponse* resp);
  absl::Status ExecSync(const cri::ExecSyncRequest& req, cri::ExecSyncResponse* resp);
  // Streaming (streaming_ops.cc): a URL on the streaming server.
  absl::Status Exec(const cri::ExecRequest& req, cri::ExecResponse* resp);
  absl::Status Attach(const cri::AttachRequest& req, cri::AttachResponse* resp);
  absl::Status PortForward(const cri::PortForwardRequest& req, cri::PortForwardResponse* resp);
  absl::Status ContainerStats(const cri::ContainerStatsRequest& req, cri::ContainerStatsResponse* resp);
  absl::Status ListContainerStats(const cri::ListContainerStatsRequest& req,
                                  cri::ListContainerStatsResponse* resp);
  absl::Status PodSandboxStats(const cri::PodSandboxStatsRequest& req,
                               cri::PodSandboxStatsResponse* resp);
  absl::Status ListPodSandboxStats(const cri::ListPodSandboxStatsRequest& req,
                                   cri::ListPodSandboxStatsResponse* resp);

  // ImageService.
  absl::Status ListImages(const cri::ListImagesRequest& req, cri::ListImagesResponse* resp);
  absl::Status ImageStatus(const cri::ImageStatusRequest& req, cri::ImageStatusResponse* resp);
  absl::Status PullImage(const cri::PullImageRequest& req, cri::PullImageResponse* resp);
  absl::Status RemoveImage(const cri::RemoveImageRequest& req, cri::RemoveImageResponse* resp);
  absl::Status ImageFsInfo(const cri::ImageFsInfoRequest& req, cri::ImageFsInfoResponse* resp);

  // Log rotation for the containers created from now on (the kubelet's
  // containerLogMaxSize in bytes, 0 for none, and containerLogMaxFiles >= 2).
  void SetContainerLogRotation(int64_t max_size, int32_t max_files);

  ContainerEvents& events() { return events_; }
  image::ImageStore& images() { return *images_; }
  // One image GC pass now (image_ops.cc); also runs every image_gc_period.
  // Every image a known container (any state) was created from is in use.
  absl::StatusOr<image::ImageGcResult> CollectImageGarbage();

 private:
  explicit Runtime(const RuntimeOptions& options);

  std::string SandboxStateDir(const std::string& id) const;
  std::string SandboxRunDir(const std::string& id) const;
  std::string BundleDir(const std::string& id) const;

  std::shared_ptr<Sandbox> FindSandbox(const std::string& id_or_prefix, absl::Status* status);
  std::shared_ptr<Container> FindContainer(const std::string& id_or_prefix, absl::Status* status);
  std::vector<std::shared_ptr<Container>> ContainersOf(const std::string& sandbox_id);

  absl::Status SaveSandbox(const Sandbox& sandbox);
  absl::Status SaveContainer(const Container& container);
  void FillSandboxStatus(const Sandbox& sandbox, cri::PodSandboxStatus* out);
  void FillContainerStatus(const Container& container, cri::ContainerStatus* out);
  void EmitEvent(const Container& container, cri::ContainerEventType type);

  // Reads exit.json of the container (after the shim wrote it) into its record.
  void OnContainerExit(const std::string& id);
  bool ApplyExitRecord(Container& container);
  absl::Status StopContainerLocked(Container& container, int64_t timeout_seconds);
  absl::Status RemoveContainerLocked(Container& container);
  absl::Status Recover();
  cni::AttachmentRequest CniRequest(const Sandbox& sandbox) const;
  // DEL of the pod's network if attached; retried by a later stop otherwise.
  absl::Status DetachNetwork(Sandbox& sandbox);
  void RecoverSandbox(const std::string& id);
  void RecoverContainer(const std::string& id);

  RuntimeOptions options_;
  std::unique_ptr<CgroupManager> cgroups_;
  std::unique_ptr<cni::CniClient> cni_;
  std::unique_ptr<image::ImageStore> images_;
  std::unique_ptr<image::registry::Puller> puller_;  // after images_: it uses the store
  std::unique_ptr<image::ImageGc> image_gc_;          // after images_: it uses the store
  // The periodic image GC (image_ops.cc), stopped first by ~Runtime.
  void ImageGcLoop();
  std::mutex image_gc_mu_;
  std::condition_variable image_gc_cv_;
  bool image_gc_stop_ = false;
  std::thread image_gc_thread_;
  NameRegistry sandbox_names_;
  NameRegistry container_names_;
  ContainerEvents events_;
  std::unique_ptr<ExitWatcher> exit_watcher_;

  std::mutex mu_;  // guards the two maps, not the records' operations
  std::map<std::string, std::shared_ptr<Sandbox>> sandboxes_;
  std::map<std::string, std::shared_ptr<Container>> containers_;
  std::condition_variable exit_cv_;  // notified (with mu_) on each container exit

  // Streaming (streaming_ops.cc); last, so the server stops first.
  class StreamingBackend;
  absl::Status StartStreaming();
  absl::StatusOr<std::string> RunningContainer(const std::string& id_or_prefix);  // its full id
  absl::StatusOr<std::string> ReadySandboxNetns(const std::string& id_or_prefix);  // "": host network
  std::unique_ptr<streaming::StreamingRuntime> streaming_backend_;
  std::unique_ptr<streaming::StreamingServer> streaming_;
};

// CRI status -> the gRPC code names are kept: InvalidArgument, NotFound, ...
// Helpers shared by the runtime's files.
std::string NewId();
bool MatchesLabels(const google::protobuf::Map<std::string, std::string>& labels,
                   const google::protobuf::Map<std::string, std::string>& selector);

}  // namespace berth
