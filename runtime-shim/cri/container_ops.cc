// CRI container calls: Create, Start, Stop, Remove, List, Status, Update,
// ReopenContainerLog, ExecSync.
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cdi/cdi_injection.h"
#include "runtime-shim/cdi/container_hooks.h"
#include "runtime-shim/cri/container_spec_builder.h"
#include "runtime-shim/cri/runtime.h"
#include "runtime-shim/cri/shim_launcher.h"
#include "runtime-shim/shim/shim_client.h"

namespace berth {
namespace {

constexpr absl::Duration kShimTimeout = absl::Seconds(10);

// What a container's OCI hooks (from CDI edits, runtime-shim/cdi/container_hooks.h) are told.
cdi::HookContext HookContextOf(const Container& c, const std::string& bundle) {
  cdi::HookContext context;
  context.id = c.id;
  context.bundle = bundle;
  context.pid = c.init_pid;
  context.annotations.insert(c.config.annotations().begin(), c.config.annotations().end());
  return context;
}

// The lowest oom_score_adj this process may give its children: without
// CAP_SYS_RESOURCE nobody may go below their own value (containerd's
// restrict_oom_score_adj does the same).
int MinOomScoreAdj() {
  static const int value = [] {
    auto text = ReadFile("/proc/self/oom_score_adj");
    int own = 0;
    if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &own)) return 0;
    // With CAP_SYS_RESOURCE in our effective set anything goes.
    auto status = ReadFile("/proc/self/status");
    if (status.ok()) {
      size_t pos = status->find("CapEff:\t");
      if (pos != std::string::npos) {
        uint64_t eff = 0;
        if (absl::SimpleHexAtoi(status->substr(pos + 8, 16), &eff) && (eff & (1ull << 24))) return -1000;
      }
    }
    BERTH_LOG(Info) << "CAP_SYS_RESOURCE missing: container oom_score_adj clamped to at least"
                    << Kv("min", own);
    return own;
  }();
  return value;
}

int SignalNumber(cri::Signal signal) {
  switch (signal) {
    case cri::SIGNAL_SIGKILL: return SIGKILL;
    case cri::SIGNAL_SIGINT: return SIGINT;
    case cri::SIGNAL_SIGQUIT: return SIGQUIT;
    case cri::SIGNAL_SIGHUP: return SIGHUP;
    case cri::SIGNAL_SIGUSR1: return SIGUSR1;
    case cri::SIGNAL_SIGUSR2: return SIGUSR2;
    case cri::SIGNAL_SIGWINCH: return SIGWINCH;
    case cri::SIGNAL_SIGPWR: return SIGPWR;
    case cri::SIGNAL_SIGABRT: return SIGABRT;
    case cri::SIGNAL_SIGRTMIN: return SIGRTMIN;
    default: return SIGTERM;
  }
}

int ImageStopSignal(const std::string& name) {
  static const std::pair<const char*, int> kNames[] = {
      {"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT}, {"SIGKILL", SIGKILL},
      {"SIGHUP", SIGHUP},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGWINCH", SIGWINCH},
      {"SIGPWR", SIGPWR}};
  std::string upper = name;
  for (auto& ch : upper) ch = static_cast<char>(toupper(ch));
  if (!absl::StartsWith(upper, "SIG")) upper = "SIG" + upper;
  for (const auto& [n, v] : kNames) {
    if (upper == n) return v;
  }
  int num = 0;
  if (absl::SimpleAtoi(name, &num) && num > 0 && num < 65) return num;
  return SIGTERM;
}

// Device cgroup rules of a non-privileged container: deny everything but the
// nodes every container has (null, zero, full, random, urandom, tty, ptmx,
// pts, tun), mknod of any node, and the devices the config asks for. A
// privileged container keeps its parent's (allow-all) rules.
std::vector<std::string> DeviceRules(const cri::ContainerConfig& config) {
  if (config.linux().security_context().privileged()) return {};
  std::vector<std::string> rules = {"c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm",
                                    "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
                                    "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"};
  for (const auto& device : config.devices()) {
    struct stat st {};
    if (stat(device.host_path().c_str(), &st) != 0) continue;  // the spec builder reports it
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    std::string perms = device.permissions().empty() ? "rwm" : device.permissions();
    rules.push_back(absl::StrCat(S_ISCHR(st.st_mode) ? "c " : "b ", major(st.st_rdev), ":",
                                 minor(st.st_rdev), " ", perms));
  }
  return rules;
}

CgroupResources ToCgroupResources(const cri::LinuxContainerResources& r) {
  CgroupResources out;
  if (r.cpu_shares() > 0) out.cpu_shares = r.cpu_shares();
  if (r.cpu_quota() != 0) out.cpu_quota = r.cpu_quota();
  if (r.cpu_period() > 0) out.cpu_period = r.cpu_period();
  out.cpuset_cpus = r.cpuset_cpus();
  out.cpuset_mems = r.cpuset_mems();
  if (r.memory_limit_in_bytes() > 0) out.memory_limit = r.memory_limit_in_bytes();
  if (r.memory_swap_limit_in_bytes() > 0) out.memory_swap_limit = r.memory_swap_limit_in_bytes();
  for (const auto& h : r.hugepage_limits()) out.hugepage_limits[h.page_size()] = h.limit();
  out.unified.insert(r.unified().begin(), r.unified().end());
  return out;
}

absl::Status ValidateResources(const cri::LinuxContainerResources& r, const std::string& field) {
  if (r.memory_limit_in_bytes() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".memory_limit_in_bytes: negative"));
  }
  if (r.memory_limit_in_bytes() > 0 && r.memory_limit_in_bytes() < 4096) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".memory_limit_in_bytes: ",
                                                   r.memory_limit_in_bytes(), " is below one page"));
  }
  if (r.cpu_shares() < 0) return absl::InvalidArgumentError(absl::StrCat(field, ".cpu_shares: negative"));
  if (r.cpu_period() < 0) return absl::InvalidArgumentError(absl::StrCat(field, ".cpu_period: negative"));
  if (r.cpu_quota() < -1) return absl::InvalidArgumentError(absl::StrCat(field, ".cpu_quota: below -1"));
  return absl::OkStatus();
}

std::string ContainerNameKey(const cri::ContainerMetadata& md, const cri::PodSandboxMetadata& pod) {
  return absl::StrCat(md.name(), "_", pod.name(), "_", pod.namespace_(), "_", pod.uid(), "_", md.attempt());
}

}  // namespace

absl::Status Runtime::CreateContainer(const cri::CreateContainerRequest& req,
                                      cri::CreateContainerResponse* resp) {
  if (req.pod_sandbox_id().empty()) return absl::InvalidArgumentError("pod_sandbox_id: required");
  const cri::ContainerConfig& config = req.config();
  if (!req.has_config()) return absl::InvalidArgumentError("config: required");
  if (!config.has_metadata() || config.metadata().name().empty()) {
    return absl::InvalidArgumentError("config.metadata.name: required");
  }
  if (config.image().image().empty()) return absl::InvalidArgumentError("config.image.image: required");
  RETURN_IF_ERROR(ValidateResources(config.linux().resources(), "config.linux.resources"));
  absl::Status status;
  auto sandbox = FindSandbox(req.pod_sandbox_id(), &status);
  if (!sandbox) return status;
  std::lock_guard<std::mutex> sandbox_op(sandbox->op_mu);
  if (sandbox->state != cri::SANDBOX_READY) {
    return absl::FailedPreconditionError(absl::StrCat("pod sandbox ", sandbox->id, " is not ready"));
  }
  auto found = images_->Resolve(config.image().image());
  if (!found.ok()) {
    return absl::NotFoundError(absl::StrCat("config.image.image: \"", config.image().image(),
                                            "\": ", found.status().message()));
  }
  const image::Image& image = *found;
  if (image_gc_) image_gc_->MarkUsed(image.id);  // image GC removes the least recently used first
  ASSIGN_OR_RETURN(auto lower_dirs, images_->LayerDirs(image));
  // CDI devices (CDI_devices, cdi.k8s.io/ annotations) before anything is made: an unknown one is named here.
  ASSIGN_OR_RETURN(cdi::ResolvedEdits cdi_edits, cdi::ResolveForContainer(config, options_.cdi_spec_dirs));

  auto c = std::make_shared<Container>();
  c->id = NewId();
  c->sandbox_id = sandbox->id;
  c->config = config;
  c->image_ref = config.image().image();
  c->image_id = image.id;
  if (!image.repo_digests.empty()) c->image_repo_digest = image.repo_digests.front();
  c->created_at = NowUnixNanos();
  const std::string name_key = ContainerNameKey(config.metadata(), sandbox->config.metadata());
  RETURN_IF_ERROR(container_names_.Reserve(name_key, c->id));

  const std::string bundle = BundleDir(c->id);
  bool shim_started = false;
  bool cgroup_created = false;
  auto undo = [&](absl::Status error) {
    if (shim_started) ShimCommand(bundle, "shutdown", kShimTimeout).IgnoreError();
    if (cgroup_created) cgroups_->Destroy(c->cgroup).IgnoreError();
    RemoveAll(bundle).IgnoreError();
    container_names_.Release(name_key);
    return error;
  };

  for (const char* dir : {"", "/fs/upper", "/fs/work", "/rootfs"}) {
    if (auto s = MkdirAll(bundle + dir, 0711); !s.ok()) return undo(s);
  }
  c->cgroup = absl::StrCat(sandbox->cgroup, "/", c->id);
  CgroupResources resources = ToCgroupResources(config.linux().resources());
  resources.device_rules = DeviceRules(config);
  if (!resources.device_rules.empty()) {
    for (auto& rule : cdi::DeviceCgroupRules(cdi_edits)) resources.device_rules.push_back(std::move(rule));
  }
  if (auto s = cgroups_->Create(c->cgroup, resources); !s.ok()) {
    return undo(Annotate(s, "config.linux.resources"));
  }
  cgroup_created = true;
  auto procs_dirs = cgroups_->ProcsDirs(c->cgroup);
  if (!procs_dirs.ok()) return undo(procs_dirs.status());

  if (!config.log_path().empty()) {
    if (sandbox->config.log_directory().empty()) {
      return undo(absl::InvalidArgumentError("config.log_path: set, but the sandbox has no log_directory"));
    }
    c->log_path = JoinUnderRoot(sandbox->config.log_directory(), config.log_path());
  }

  SpecInputs in;
  in.config = &config;
  in.sandbox_config = &sandbox->config;
  in.image = &image;
  in.lower_dirs = lower_dirs;
  in.bundle = bundle;
  in.sandbox_namespaces = sandbox->namespaces;
  const auto pid_mode = config.linux().security_context().namespace_options().pid();
  if (pid_mode == cri::POD && !sandbox->pidns_init_pid.empty()) {
    in.pid_namespace = absl::StrCat("/proc/", sandbox->pidns_init_pid, "/ns/pid");
  } else if (pid_mode == cri::TARGET) {
    auto target = FindContainer(config.linux().security_context().namespace_options().target_id(), &status);
    if (!target) return undo(Annotate(status, "config.linux.security_context.namespace_options.target_id"));
    std::lock_guard<std::mutex> lock(mu_);
    if (target->state != cri::CONTAINER_RUNNING && target->state != cri::CONTAINER_CREATED) {
      return undo(absl::FailedPreconditionError("namespace_options.target_id: target container is not running"));
    }
    in.pid_namespace = absl::StrCat("/proc/", target->init_pid, "/ns/pid");
  }
  in.sandbox_files_dir = SandboxStateDir(sandbox->id);
  if (sandbox->namespaces.count("ipc")) in.sandbox_shm_dir = SandboxRunDir(sandbox->id) + "/shm";
  in.cgroup_dirs = *procs_dirs;
  in.memory_cgroup_dir = cgroups_->MemoryDir(c->cgroup);
  in.log_path = c->log_path;
  in.min_oom_score_adj = MinOomScoreAdj();
  if (pid_mode == cri::POD && sandbox->pidns_init_pid.empty()) {
    // The pod shares no pid namespace (Kubernetes' default): the container
    // gets its own, as containerd does.
    cri::ContainerConfig adjusted = config;
    adjusted.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(cri::CONTAINER);
    c->config = adjusted;
    in.config = &c->config;
  }
  auto built = BuildContainerSpec(in);
  if (!built.ok()) return undo(built.status());
  for (const auto& warning : built->warnings) {
    BERTH_LOG(Warning) << warning << Kv("container", c->id);
  }
  cdi::ApplyEdits(cdi_edits, &built->spec);
  built->spec.id = c->id;
  built->spec.sandbox_id = sandbox->id;
  built->spec.hostname = sandbox->config.hostname();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.container_log_max_size > 0 && options_.container_log_max_files >= 2) {
      built->spec.log_max_size = options_.container_log_max_size;
      built->spec.log_max_files = options_.container_log_max_files;
    }
  }
  c->uid = built->spec.uid;
  c->gid = built->spec.gid;
  c->groups = built->spec.additional_gids;
  if (!c->log_path.empty()) {
    if (auto s = MkdirAll(c->log_path.substr(0, c->log_path.rfind('/')), 0755); !s.ok()) return undo(s);
  }
  if (!built->seccomp_profile.empty()) {
    if (auto s = AtomicWriteFile(bundle + "/seccomp.json", built->seccomp_profile, 0600, false); !s.ok()) {
      return undo(s);
    }
  }
  if (auto s = AtomicWriteFile(bundle + "/config.json", ContainerSpecToJson(built->spec), 0600, false);
      !s.ok()) {
    return undo(s);
  }
  if (auto s = cdi::SaveHooks(bundle, cdi_edits.hooks); !s.ok()) return undo(s);
  if (auto s = SaveContainer(*c); !s.ok()) return undo(s);

  auto init_pid = LaunchShimCreate(options_.shim_path, bundle, kShimTimeout);
  shim_started = true;
  if (!init_pid.ok()) return undo(Annotate(init_pid.status(), "create container"));
  c->init_pid = *init_pid;
  if (auto s = cdi::RunCreateHooks(HookContextOf(*c, bundle)); !s.ok()) return undo(Annotate(s, "create container"));
  c->state = cri::CONTAINER_CREATED;
  {
    std::lock_guard<std::mutex> lock(mu_);
    containers_[c->id] = c;
  }
  if (auto s = exit_watcher_->Watch(c->id, bundle); !s.ok()) {
    BERTH_LOG(Error) << "cannot watch container" << Kv("id", c->id) << Kv("error", s.ToString());
  }
  EmitEvent(*c, cri::CONTAINER_CREATED_EVENT);
  resp->set_container_id(c->id);
  return absl::OkStatus();
}

absl::Status Runtime::StartContainer(const cri::StartContainerRequest& req,
                                     cri::StartContainerResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  std::lock_guard<std::mutex> op(c->op_mu);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->state != cri::CONTAINER_CREATED) {
      return absl::FailedPreconditionError(
          absl::StrCat("container ", c->id, " is ", cri::ContainerState_Name(c->state), ", not CREATED"));
    }
  }
  const std::string bundle = BundleDir(c->id);
  RETURN_IF_ERROR(Annotate(cdi::RunHooks(cdi::HookStage::kStartContainer, HookContextOf(*c, bundle)),
                           absl::StrCat("start container ", c->id)));
  auto reply = ShimCommand(bundle, "start", kShimTimeout);
  if (!reply.ok()) return Annotate(reply.status(), absl::StrCat("start container ", c->id));
  if (*reply != "ok") {
    absl::string_view message = *reply;
    absl::ConsumePrefix(&message, "error ");
    return absl::FailedPreconditionError(absl::StrCat("start container ", c->id, ": ", message));
  }
  if (auto s = cdi::RunHooks(cdi::HookStage::kPoststart, HookContextOf(*c, bundle)); !s.ok()) {
    BERTH_LOG(Warning) << "poststart hook failed" << Kv("container", c->id) << Kv("error", s.ToString());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->state == cri::CONTAINER_CREATED) c->state = cri::CONTAINER_RUNNING;
    auto started = ReadFile(BundleDir(c->id) + "/started");
    if (!started.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*started), &c->started_at)) {
      c->started_at = NowUnixNanos();
    }
  }
  EmitEvent(*c, cri::CONTAINER_STARTED_EVENT);
  return absl::OkStatus();
}

absl::Status Runtime::StopContainerLocked(Container& c, int64_t timeout_seconds) {
  const std::string bundle = BundleDir(c.id);
  auto exited = [&] { return c.state == cri::CONTAINER_EXITED; };
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exited()) return absl::OkStatus();
  }
  if (timeout_seconds > 0) {
    int sig = c.config.stop_signal() != cri::SIGNAL_RUNTIME_DEFAULT ? SignalNumber(c.config.stop_signal())
                                                                    : SIGTERM;
    if (c.config.stop_signal() == cri::SIGNAL_RUNTIME_DEFAULT) {
      auto image = images_->Resolve(c.image_id);
      if (image.ok() && !image->stop_signal.empty()) sig = ImageStopSignal(image->stop_signal);
    }
    auto reply = ShimCommand(bundle, absl::StrCat("kill ", sig), kShimTimeout);
    if (!reply.ok()) return reply.status();
    std::unique_lock<std::mutex> lock(mu_);
    if (exit_cv_.wait_for(lock, std::chrono::seconds(timeout_seconds), exited)) return absl::OkStatus();
  }
  auto reply = ShimCommand(bundle, "kill 9", kShimTimeout);
  if (!reply.ok()) return reply.status();
  std::unique_lock<std::mutex> lock(mu_);
  if (!exit_cv_.wait_for(lock, std::chrono::seconds(30), exited)) {
    return absl::DeadlineExceededError(absl::StrCat("container ", c.id, " did not exit 30s after SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status Runtime::StopContainer(const cri::StopContainerRequest& req, cri::StopContainerResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  std::lock_guard<std::mutex> op(c->op_mu);
  return StopContainerLocked(*c, req.timeout());
}

absl::Status Runtime::RemoveContainerLocked(Container& c) {
  RETURN_IF_ERROR(StopContainerLocked(c, 0));
  const std::string bundle = BundleDir(c.id);
  exit_watcher_->Unwatch(c.id);
  auto reply = ShimCommand(bundle, "shutdown", kShimTimeout);
  if (!reply.ok() && reply.status().code() != absl::StatusCode::kNotFound &&
      reply.status().code() != absl::StatusCode::kUnavailable) {
    BERTH_LOG(Warning) << "shim shutdown" << Kv("id", c.id) << Kv("error", reply.status().ToString());
  }
  RETURN_IF_ERROR(cgroups_->Destroy(c.cgroup));
  if (auto s = cdi::RunHooks(cdi::HookStage::kPoststop, HookContextOf(c, bundle)); !s.ok()) {
    BERTH_LOG(Warning) << "poststop hook failed" << Kv("container", c.id) << Kv("error", s.ToString());
  }
  RETURN_IF_ERROR(RemoveAll(bundle));
  {
    std::lock_guard<std::mutex> lock(mu_);
    containers_.erase(c.id);
  }
  container_names_.ReleaseById(c.id);
  EmitEvent(c, cri::CONTAINER_DELETED_EVENT);
  return absl::OkStatus();
}

absl::Status Runtime::RemoveContainer(const cri::RemoveContainerRequest& req,
                                      cri::RemoveContainerResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : status;
  std::lock_guard<std::mutex> op(c->op_mu);
  return RemoveContainerLocked(*c);
}

void Runtime::FillContainerStatus(const Container& c, cri::ContainerStatus* out) {
  out->set_id(c.id);
  *out->mutable_metadata() = c.config.metadata();
  out->set_state(c.state);
  out->set_created_at(c.created_at);
  out->set_started_at(c.started_at);
  out->set_finished_at(c.finished_at);
  out->set_exit_code(c.exit_code);
  *out->mutable_image() = c.config.image();
  out->mutable_image()->set_image(c.image_ref);
  out->set_image_ref(c.image_repo_digest.empty() ? c.image_id : c.image_repo_digest);
  out->set_image_id(c.image_id);
  out->set_reason(c.reason);
  out->set_message(c.message);
  *out->mutable_labels() = c.config.labels();
  *out->mutable_annotations() = c.config.annotations();
  *out->mutable_mounts() = c.config.mounts();
  out->set_log_path(c.log_path);
  *out->mutable_resources()->mutable_linux() = c.config.linux().resources();
  auto* user = out->mutable_user()->mutable_linux();
  user->set_uid(c.uid);
  user->set_gid(c.gid);
  for (uint32_t g : c.groups) user->add_supplemental_groups(g);
  out->set_stop_signal(c.config.stop_signal());
}

absl::Status Runtime::ContainerStatus(const cri::ContainerStatusRequest& req,
                                      cri::ContainerStatusResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  std::lock_guard<std::mutex> lock(mu_);
  FillContainerStatus(*c, resp->mutable_status());
  if (req.verbose()) {
    (*resp->mutable_info())["info"] = absl::StrCat("{\"pid\":", c->init_pid, ",\"sandboxID\":\"", c->sandbox_id,
                                                   "\",\"cgroup\":\"", c->cgroup, "\",\"bundle\":\"",
                                                   BundleDir(c->id), "\"}");
  }
  return absl::OkStatus();
}

absl::Status Runtime::ListContainers(const cri::ListContainersRequest& req, cri::ListContainersResponse* resp) {
  const auto& filter = req.filter();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, c] : containers_) {
    if (!filter.id().empty() && id.compare(0, filter.id().size(), filter.id()) != 0) continue;
    if (!filter.pod_sandbox_id().empty() &&
        c->sandbox_id.compare(0, filter.pod_sandbox_id().size(), filter.pod_sandbox_id()) != 0) {
      continue;
    }
    if (filter.has_state() && filter.state().state() != c->state) continue;
    if (!MatchesLabels(c->config.labels(), filter.label_selector())) continue;
    auto* item = resp->add_containers();
    item->set_id(id);
    item->set_pod_sandbox_id(c->sandbox_id);
    *item->mutable_metadata() = c->config.metadata();
    *item->mutable_image() = c->config.image();
    item->set_image_ref(c->image_repo_digest.empty() ? c->image_id : c->image_repo_digest);
    item->set_image_id(c->image_id);
    item->set_state(c->state);
    item->set_created_at(c->created_at);
    *item->mutable_labels() = c->config.labels();
    *item->mutable_annotations() = c->config.annotations();
  }
  return absl::OkStatus();
}

absl::Status Runtime::UpdateContainerResources(const cri::UpdateContainerResourcesRequest& req,
                                               cri::UpdateContainerResourcesResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  RETURN_IF_ERROR(ValidateResources(req.linux(), "linux"));
  std::lock_guard<std::mutex> op(c->op_mu);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->state == cri::CONTAINER_EXITED) {
      return absl::FailedPreconditionError(absl::StrCat("container ", c->id, " has exited"));
    }
  }
  RETURN_IF_ERROR(cgroups_->Update(c->cgroup, ToCgroupResources(req.linux())));
  {
    std::lock_guard<std::mutex> lock(mu_);
    *c->config.mutable_linux()->mutable_resources() = req.linux();
    for (const auto& [k, v] : req.annotations()) (*c->config.mutable_annotations())[k] = v;
  }
  return SaveContainer(*c);
}

void Runtime::SetContainerLogRotation(int64_t max_size, int32_t max_files) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.container_log_max_size = max_size;
  options_.container_log_max_files = max_files;
}

absl::Status Runtime::ReopenContainerLog(const cri::ReopenContainerLogRequest& req,
                                         cri::ReopenContainerLogResponse* resp) {
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->state != cri::CONTAINER_RUNNING) {
      return absl::FailedPreconditionError(absl::StrCat("container ", c->id, " is not running"));
    }
  }
  auto reply = ShimCommand(BundleDir(c->id), "reopen-log", kShimTimeout);
  if (!reply.ok()) return reply.status();
  if (*reply != "ok") return absl::InternalError(absl::StrCat("reopen log of ", c->id, ": ", *reply));
  return absl::OkStatus();
}

absl::Status Runtime::ExecSync(const cri::ExecSyncRequest& req, cri::ExecSyncResponse* resp) {
  if (req.cmd().empty()) return absl::InvalidArgumentError("cmd: required");
  if (req.timeout() < 0) return absl::InvalidArgumentError("timeout: negative");
  absl::Status status;
  auto c = FindContainer(req.container_id(), &status);
  if (!c) return status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->state != cri::CONTAINER_RUNNING) {
      return absl::FailedPreconditionError(absl::StrCat("container ", c->id, " is not running"));
    }
  }
  std::vector<std::string> cmd(req.cmd().begin(), req.cmd().end());
  ASSIGN_OR_RETURN(ExecResult result, RunShimExec(options_.shim_path, BundleDir(c->id), cmd,
                                                  absl::Seconds(req.timeout())));
  if (result.timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("command ", cmd[0], " timed out after ", req.timeout(), "s"));
  }
  resp->set_stdout(std::move(result.stdout_data));
  resp->set_stderr(std::move(result.stderr_data));
  resp->set_exit_code(result.exit_code);
  return absl::OkStatus();
}

}  // namespace berth
