// CRI pod sandbox calls: RunPodSandbox, StopPodSandbox, RemovePodSandbox,
// PodSandboxStatus, ListPodSandbox.
#include <sys/mount.h>
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <future>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cri/namespace_pinner.h"
#include "runtime-shim/cri/runtime.h"
#include "runtime-shim/cri/shim_launcher.h"

namespace berth {
namespace {

std::string SandboxNameKey(const cri::PodSandboxMetadata& md) {
  return absl::StrCat(md.name(), "_", md.namespace_(), "_", md.uid(), "_", md.attempt());
}

absl::Status ValidateSandboxConfig(const cri::PodSandboxConfig& config) {
  if (!config.has_metadata()) return absl::InvalidArgumentError("config.metadata: required");
  const auto& md = config.metadata();
  if (md.name().empty()) return absl::InvalidArgumentError("config.metadata.name: required");
  if (md.name().find('/') != std::string::npos || md.namespace_().find('/') != std::string::npos) {
    return absl::InvalidArgumentError("config.metadata: name and namespace may not contain '/'");
  }
  if (config.hostname().size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.hostname: \"", config.hostname(), "\" is longer than 64 characters"));
  }
  for (const auto& port : config.port_mappings()) {
    if (port.container_port() <= 0 || port.container_port() > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("config.port_mappings.container_port: ", port.container_port(), " is not a port"));
    }
  }
  return absl::OkStatus();
}

std::string HostsFile(const std::string& hostname, bool host_network) {
  if (host_network) {
    auto host = ReadFile("/etc/hosts");
    if (host.ok()) return *host;
  }
  std::string text =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  return text;
}

absl::StatusOr<std::string> ResolvConf(const cri::PodSandboxConfig& config) {
  if (!config.has_dns_config() ||
      (config.dns_config().servers().empty() && config.dns_config().searches().empty() &&
       config.dns_config().options().empty())) {
    auto host = ReadFile("/etc/resolv.conf");
    return host.ok() ? *host : std::string();
  }
  const auto& dns = config.dns_config();
  std::string text;
  for (const auto& s : dns.servers()) absl::StrAppend(&text, "nameserver ", s, "\n");
  if (!dns.searches().empty()) absl::StrAppend(&text, "search ", absl::StrJoin(dns.searches(), " "), "\n");
  if (!dns.options().empty()) absl::StrAppend(&text, "options ", absl::StrJoin(dns.options(), " "), "\n");
  return text;
}

// Undo steps of a half-made sandbox, run in reverse unless dismissed. Steps
// capture by value: they run after the locals declared later are gone.
class Cleanup {
 public:
  ~Cleanup() {
    if (!armed_) return;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }
  void Add(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void Dismiss() { armed_ = false; }

 private:
  bool armed_ = true;
  std::vector<std::function<void()>> steps_;
};

void KillPidnsInit(const std::string& pid_text) {
  int pid = 0;
  if (absl::SimpleAtoi(pid_text, &pid) && pid > 1) kill(pid, SIGKILL);
}

}  // namespace

absl::Status Runtime::RunPodSandbox(const cri::RunPodSandboxRequest& req,
                                    cri::RunPodSandboxResponse* resp) {
  const cri::PodSandboxConfig& config = req.config();
  if (!req.has_config()) return absl::InvalidArgumentError("config: required");
  RETURN_IF_ERROR(ValidateSandboxConfig(config));
  if (!req.runtime_handler().empty() && req.runtime_handler() != "berth" &&
      req.runtime_handler() != "runc") {
    return absl::InvalidArgumentError(
        absl::StrCat("runtime_handler: unknown handler \"", req.runtime_handler(), "\""));
  }
  const auto& ns = config.linux().security_context().namespace_options();
  bool host_net = ns.network() == cri::NODE;
  bool host_ipc = ns.ipc() == cri::NODE;
  for (const auto& [name, value] : config.linux().sysctls()) {
    RETURN_IF_ERROR(ValidatePodSysctl(name, host_net, host_ipc));
  }

  auto sandbox = std::make_shared<Sandbox>();
  sandbox->id = NewId();
  sandbox->config = config;
  sandbox->created_at = NowUnixNanos();
  const std::string name_key = SandboxNameKey(config.metadata());
  RETURN_IF_ERROR(sandbox_names_.Reserve(name_key, sandbox->id));
  Cleanup cleanup;
  cleanup.Add([this, name_key] { sandbox_names_.Release(name_key); });

  const std::string state_dir = SandboxStateDir(sandbox->id);
  const std::string run_dir = SandboxRunDir(sandbox->id);
  RETURN_IF_ERROR(MkdirAll(state_dir, 0711));
  cleanup.Add([state_dir] { RemoveAll(state_dir).IgnoreError(); });
  RETURN_IF_ERROR(MkdirAll(run_dir, 0711));
  cleanup.Add([run_dir] { RemoveAll(run_dir).IgnoreError(); });

  // Namespaces: uts follows the network, as the kubelet asks for it.
  PinRequest pin;
  pin.dir = run_dir + "/ns";
  pin.net = !host_net;
  pin.uts = !host_net;
  pin.ipc = !host_ipc;
  pin.hostname = config.hostname();
  pin.sysctls.insert(config.linux().sysctls().begin(), config.linux().sysctls().end());
  ASSIGN_OR_RETURN(sandbox->namespaces, PinNamespaces(pin));
  cleanup.Add([dir = pin.dir] { UnpinNamespaces(dir).IgnoreError(); });

  // CNI ADD runs on its own thread while the rest of the sandbox is made:
  // the plugins only need the pinned net namespace. Without a valid config
  // the pod keeps a loopback-only namespace (Status says NetworkReady false).
  auto network = std::make_shared<std::future<absl::StatusOr<cni::CniResult>>>();
  if (!host_net && cni_->NetworkReady().ok()) {
    *network = std::async(std::launch::async,
                          [this, request = CniRequest(*sandbox)] { return cni_->Add(request); });
    cleanup.Add([this, sandbox, network] {
      if (network->valid()) network->wait();
      cni_->Del(CniRequest(*sandbox)).IgnoreError();
    });
  }

  // Files every container of the pod mounts.
  std::string hostname = config.hostname();
  if (host_net) {
    char buf[256] = {};
    gethostname(buf, sizeof(buf) - 1);
    hostname = buf;
  }
  RETURN_IF_ERROR(AtomicWriteFile(state_dir + "/hostname", hostname + "\n", 0644, false));
  RETURN_IF_ERROR(AtomicWriteFile(state_dir + "/hosts", HostsFile(hostname, host_net), 0644, false));
  ASSIGN_OR_RETURN(std::string resolv, ResolvConf(config));
  RETURN_IF_ERROR(AtomicWriteFile(state_dir + "/resolv.conf", resolv, 0644, false));
  if (!host_ipc) {
    std::string shm = run_dir + "/shm";
    RETURN_IF_ERROR(MkdirAll(shm, 0755));
    if (mount("shm", shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777,size=65536k") < 0) {
      return ErrnoError(absl::StrCat("mount the pod's shm on ", shm));
    }
    cleanup.Add([shm] { umount2(shm.c_str(), MNT_DETACH); });
  }

  // The pod cgroup: the kubelet names it (linux.cgroup_parent) and owns it;
  // without one the pod gets its own below our parent, which we remove.
  if (!config.linux().cgroup_parent().empty()) {
    sandbox->cgroup = config.linux().cgroup_parent();
    sandbox->owns_cgroup = false;
  } else {
    sandbox->cgroup = absl::StrCat(options_.cgroup_parent, "/pod-", sandbox->id.substr(0, 12));
    sandbox->owns_cgroup = true;
  }
  CgroupResources pod_resources;
  RETURN_IF_ERROR(Annotate(cgroups_->Create(sandbox->cgroup, pod_resources),
                           absl::StrCat("create the pod cgroup ", sandbox->cgroup)));
  if (sandbox->owns_cgroup) cleanup.Add([this, sandbox] { cgroups_->Destroy(sandbox->cgroup).IgnoreError(); });

  if (ns.pid() == cri::POD) {
    std::string pidfile = run_dir + "/pidns-init.pid";
    RETURN_IF_ERROR(Annotate(RunShimToCompletion(options_.shim_path, {"pidns-init", "--pidfile", pidfile}),
                             "start the pod's pid namespace init"));
    ASSIGN_OR_RETURN(std::string pid_text, ReadFile(pidfile));
    sandbox->pidns_init_pid = std::string(absl::StripAsciiWhitespace(pid_text));
    cleanup.Add([sandbox] { KillPidnsInit(sandbox->pidns_init_pid); });
    // The reaper belongs to the pod, as a pause container would.
    ASSIGN_OR_RETURN(auto procs_dirs, cgroups_->ProcsDirs(sandbox->cgroup));
    for (const auto& dir : procs_dirs) {
      RETURN_IF_ERROR(Annotate(WriteKnob(dir + "/cgroup.procs", sandbox->pidns_init_pid),
                               "move the pod's pid namespace init into the pod cgroup"));
    }
  }

  if (network->valid()) {
    absl::StatusOr<cni::CniResult> attached = network->get();
    if (!attached.ok()) return Annotate(attached.status(), "set up the pod network (CNI ADD)");
    sandbox->cni_attached = true;
    sandbox->pod_ips = attached->PodIPs();
  }

  sandbox->state = cri::SANDBOX_READY;
  RETURN_IF_ERROR(SaveSandbox(*sandbox));
  {
    std::lock_guard<std::mutex> lock(mu_);
    sandboxes_[sandbox->id] = sandbox;
  }
  cleanup.Dismiss();
  BERTH_LOG(Info) << "pod sandbox ready" << Kv("id", sandbox->id) << Kv("name", config.metadata().name())
                  << Kv("namespace", config.metadata().namespace_());
  resp->set_pod_sandbox_id(sandbox->id);
  return absl::OkStatus();
}

absl::Status Runtime::StopPodSandbox(const cri::StopPodSandboxRequest& req,
                                     cri::StopPodSandboxResponse* resp) {
  absl::Status status;
  auto sandbox = FindSandbox(req.pod_sandbox_id(), &status);
  if (!sandbox) return status;
  std::lock_guard<std::mutex> op(sandbox->op_mu);
  // Containers first, without a grace period (the kubelet gave them theirs).
  for (const auto& c : ContainersOf(sandbox->id)) {
    std::lock_guard<std::mutex> cop(c->op_mu);
    RETURN_IF_ERROR(Annotate(StopContainerLocked(*c, 0), absl::StrCat("stop container ", c->id)));
  }
  if (sandbox->state == cri::SANDBOX_READY) {
    // The namespaces are released before CNI DEL: the kernel then removes the
    // pod's veth pair with its network namespace, asynchronously, instead of
    // DEL waiting the 15-20 ms a veth removal takes (plugins handle a DEL
    // whose namespace is gone: IPAM and rules are released, links go with
    // the namespace).
    KillPidnsInit(sandbox->pidns_init_pid);
    RETURN_IF_ERROR(UnpinNamespaces(SandboxRunDir(sandbox->id) + "/ns"));
    std::string shm = SandboxRunDir(sandbox->id) + "/shm";
    umount2(shm.c_str(), MNT_DETACH);
    {
      std::lock_guard<std::mutex> lock(mu_);
      sandbox->state = cri::SANDBOX_NOTREADY;
    }
    RETURN_IF_ERROR(SaveSandbox(*sandbox));
  }
  // A failed DEL keeps the attachment recorded, so the kubelet's next stop
  // (or RemovePodSandbox) retries it.
  RETURN_IF_ERROR(DetachNetwork(*sandbox));
  BERTH_LOG(Info) << "pod sandbox stopped" << Kv("id", sandbox->id);
  return absl::OkStatus();
}

absl::Status Runtime::RemovePodSandbox(const cri::RemovePodSandboxRequest& req,
                                       cri::RemovePodSandboxResponse* resp) {
  absl::Status status;
  auto sandbox = FindSandbox(req.pod_sandbox_id(), &status);
  if (!sandbox) return status.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : status;
  cri::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(sandbox->id);
  cri::StopPodSandboxResponse stopped;
  RETURN_IF_ERROR(StopPodSandbox(stop, &stopped));
  std::lock_guard<std::mutex> op(sandbox->op_mu);
  for (const auto& c : ContainersOf(sandbox->id)) {
    std::lock_guard<std::mutex> cop(c->op_mu);
    RETURN_IF_ERROR(Annotate(RemoveContainerLocked(*c), absl::StrCat("remove container ", c->id)));
  }
  if (sandbox->owns_cgroup) {
    RETURN_IF_ERROR(Annotate(cgroups_->Destroy(sandbox->cgroup),
                             absl::StrCat("remove the pod cgroup ", sandbox->cgroup)));
  }
  RETURN_IF_ERROR(RemoveAll(SandboxRunDir(sandbox->id)));
  RETURN_IF_ERROR(RemoveAll(SandboxStateDir(sandbox->id)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    sandboxes_.erase(sandbox->id);
  }
  sandbox_names_.ReleaseById(sandbox->id);
  BERTH_LOG(Info) << "pod sandbox removed" << Kv("id", sandbox->id);
  return absl::OkStatus();
}

void Runtime::FillSandboxStatus(const Sandbox& sandbox, cri::PodSandboxStatus* out) {
  out->set_id(sandbox.id);
  *out->mutable_metadata() = sandbox.config.metadata();
  out->set_state(sandbox.state);
  out->set_created_at(sandbox.created_at);
  *out->mutable_labels() = sandbox.config.labels();
  *out->mutable_annotations() = sandbox.config.annotations();
  *out->mutable_linux()->mutable_namespaces()->mutable_options() =
      sandbox.config.linux().security_context().namespace_options();
  auto* network = out->mutable_network();
  if (!sandbox.pod_ips.empty() && sandbox.state == cri::SANDBOX_READY) {
    network->set_ip(sandbox.pod_ips[0]);
    for (size_t i = 1; i < sandbox.pod_ips.size(); ++i) network->add_additional_ips()->set_ip(sandbox.pod_ips[i]);
  }
}

absl::Status Runtime::PodSandboxStatus(const cri::PodSandboxStatusRequest& req,
                                       cri::PodSandboxStatusResponse* resp) {
  absl::Status status;
  auto sandbox = FindSandbox(req.pod_sandbox_id(), &status);
  if (!sandbox) return status;
  std::lock_guard<std::mutex> lock(mu_);
  FillSandboxStatus(*sandbox, resp->mutable_status());
  resp->set_timestamp(NowUnixNanos());
  if (req.verbose()) {
    (*resp->mutable_info())["info"] = absl::StrCat(
        "{\"cgroup\":\"", sandbox->cgroup, "\",\"namespaces\":{",
        absl::StrJoin(sandbox->namespaces, ",",
                      [](std::string* out, const auto& kv) {
                        absl::StrAppend(out, "\"", kv.first, "\":\"", kv.second, "\"");
                      }),
        "},\"pidnsInitPid\":\"", sandbox->pidns_init_pid, "\"}");
  }
  return absl::OkStatus();
}

absl::Status Runtime::ListPodSandbox(const cri::ListPodSandboxRequest& req,
                                     cri::ListPodSandboxResponse* resp) {
  const auto& filter = req.filter();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, sandbox] : sandboxes_) {
    if (!filter.id().empty() && id.compare(0, filter.id().size(), filter.id()) != 0) continue;
    if (filter.has_state() && filter.state().state() != sandbox->state) continue;
    if (!MatchesLabels(sandbox->config.labels(), filter.label_selector())) continue;
    auto* item = resp->add_items();
    item->set_id(id);
    *item->mutable_metadata() = sandbox->config.metadata();
    item->set_state(sandbox->state);
    item->set_created_at(sandbox->created_at);
    *item->mutable_labels() = sandbox->config.labels();
    *item->mutable_annotations() = sandbox->config.annotations();
  }
  return absl::OkStatus();
}

}  // namespace berth
