// Runtime: construction, records on disk, lookups, exits and recovery.
// The CRI calls live in sandbox_ops.cc, container_ops.cc, stats_ops.cc and
// image_ops.cc.
#include "runtime-shim/cri/runtime.h"

#include <sys/random.h>
#include <sys/mount.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/cri/namespace_pinner.h"
#include "runtime-shim/shim/shim_client.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth {

std::string NewId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) got += n;
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
}

bool MatchesLabels(const google::protobuf::Map<std::string, std::string>& labels,
                   const google::protobuf::Map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

Runtime::Runtime(const RuntimeOptions& options) : options_(options) {}

Runtime::~Runtime() {
  {
    std::lock_guard<std::mutex> lock(image_gc_mu_);
    image_gc_stop_ = true;
  }
  image_gc_cv_.notify_all();
  if (image_gc_thread_.joinable()) image_gc_thread_.join();
  events_.CloseAll();
  exit_watcher_.reset();
  puller_.reset();
}

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Open(const RuntimeOptions& options) {
  if (options.shim_path.empty()) return absl::InvalidArgumentError("shim path: empty");
  RETURN_IF_ERROR(image::ValidateImageGcPolicy(options.image_gc));
  auto runtime = std::unique_ptr<Runtime>(new Runtime(options));
  for (const char* sub : {"/sandboxes", "/containers"}) {
    RETURN_IF_ERROR(MkdirAll(options.state_dir + sub, 0711));
    RETURN_IF_ERROR(MkdirAll(options.run_dir + sub, 0711));
  }
  ASSIGN_OR_RETURN(runtime->cgroups_, NewCgroupManager(options.cgroups));
  cni::CniClientOptions cni_options;
  cni_options.conf_dir = options.cni_conf_dir;
  cni_options.bin_dirs = options.cni_bin_dirs;
  cni_options.cache_dir =
      options.cni_cache_dir.empty() ? options.state_dir + "/cni" : options.cni_cache_dir;
  // A config dropped into (or broken in) the conf dir takes effect without a restart.
  cni_options.watch_conf_dir = true;
  runtime->cni_ = std::make_unique<cni::CniClient>(cni_options);
  ASSIGN_OR_RETURN(runtime->images_, image::ImageStore::Open(options.state_dir + "/images"));
  image::registry::RegistryConfig registries = options.registries;
  for (const auto& host : options.insecure_registries) registries.hosts[host].insecure = true;
  image::registry::PullOptions pull_options;
  pull_options.max_concurrent_downloads = options.max_concurrent_downloads;
  pull_options.progress_deadline = options.image_pull_progress_deadline;
  runtime->puller_ = std::make_unique<image::registry::Puller>(
      runtime->images_.get(), std::make_shared<image::registry::RegistryClient>(registries), pull_options);
  Runtime* self = runtime.get();
  ASSIGN_OR_RETURN(runtime->exit_watcher_,
                   ExitWatcher::Start([self](const std::string& id) { self->OnContainerExit(id); }));
  RETURN_IF_ERROR(runtime->Recover());
  RETURN_IF_ERROR(runtime->StartStreaming());
  runtime->image_gc_ = std::make_unique<image::ImageGc>(
      runtime->images_.get(), options.image_gc, image::StatfsDiskUsage(options.state_dir + "/images"),
      options.state_dir + "/image-gc-state.json");
  if (options.image_gc_period > absl::ZeroDuration()) {
    runtime->image_gc_thread_ = std::thread([self] { self->ImageGcLoop(); });
  }
  return runtime;
}

std::string Runtime::SandboxStateDir(const std::string& id) const {
  return absl::StrCat(options_.state_dir, "/sandboxes/", id);
}
std::string Runtime::SandboxRunDir(const std::string& id) const {
  return absl::StrCat(options_.run_dir, "/sandboxes/", id);
}
std::string Runtime::BundleDir(const std::string& id) const {
  return absl::StrCat(options_.state_dir, "/containers/", id);
}

namespace {

// Finds a record by full id or unique prefix, as crictl lets users type.
template <typename T>
std::shared_ptr<T> FindByIdOrPrefix(const std::map<std::string, std::shared_ptr<T>>& records,
                                    const std::string& key, const char* what, absl::Status* status) {
  if (key.empty()) {
    *status = absl::InvalidArgumentError(absl::StrCat(what, " id: empty"));
    return nullptr;
  }
  auto it = records.find(key);
  if (it != records.end()) return it->second;
  std::shared_ptr<T> found;
  for (auto p = records.lower_bound(key); p != records.end() && absl::StartsWith(p->first, key); ++p) {
    if (found) {
      *status = absl::InvalidArgumentError(absl::StrCat(what, " id \"", key, "\" is ambiguous"));
      return nullptr;
    }
    found = p->second;
  }
  if (!found) *status = absl::NotFoundError(absl::StrCat(what, " \"", key, "\" not found"));
  return found;
}

}  // namespace

std::shared_ptr<Sandbox> Runtime::FindSandbox(const std::string& id, absl::Status* status) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindByIdOrPrefix(sandboxes_, id, "pod sandbox", status);
}

std::shared_ptr<Container> Runtime::FindContainer(const std::string& id, absl::Status* status) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindByIdOrPrefix(containers_, id, "container", status);
}

std::vector<std::shared_ptr<Container>> Runtime::ContainersOf(const std::string& sandbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Container>> out;
  for (const auto& [id, c] : containers_) {
    if (c->sandbox_id == sandbox_id) out.push_back(c);
  }
  return out;
}

// ---- records on disk ----

absl::Status Runtime::SaveSandbox(const Sandbox& sandbox) {
  std::string dir = SandboxStateDir(sandbox.id);
  nlohmann::json j;
  {
    j["id"] = sandbox.id;
    j["state"] = static_cast<int>(sandbox.state);
    j["created_at"] = sandbox.created_at;
    j["cgroup"] = sandbox.cgroup;
    j["owns_cgroup"] = sandbox.owns_cgroup;
    j["namespaces"] = sandbox.namespaces;
    j["pidns_init_pid"] = sandbox.pidns_init_pid;
    j["pod_ips"] = sandbox.pod_ips;
    j["cni_attached"] = sandbox.cni_attached;
  }
  RETURN_IF_ERROR(AtomicWriteFile(dir + "/config.pb", sandbox.config.SerializeAsString(), 0600, false));
  return AtomicWriteFile(dir + "/state.json", j.dump(), 0600, false);
}

absl::Status Runtime::SaveContainer(const Container& c) {
  std::string dir = BundleDir(c.id);
  nlohmann::json j;
  j["id"] = c.id;
  j["sandbox_id"] = c.sandbox_id;
  j["image_ref"] = c.image_ref;
  j["image_id"] = c.image_id;
  j["image_repo_digest"] = c.image_repo_digest;
  j["cgroup"] = c.cgroup;
  j["log_path"] = c.log_path;
  j["created_at"] = c.created_at;
  j["uid"] = c.uid;
  j["gid"] = c.gid;
  j["groups"] = c.groups;
  RETURN_IF_ERROR(AtomicWriteFile(dir + "/container.pb", c.config.SerializeAsString(), 0600, false));
  return AtomicWriteFile(dir + "/state.json", j.dump(), 0600, false);
}

// ---- exits ----

bool Runtime::ApplyExitRecord(Container& c) {
  auto text = ReadFile(BundleDir(c.id) + "/exit.json");
  if (!text.ok()) return false;
  auto record = ExitRecordFromJson(*text);
  if (!record.ok()) return false;
  c.state = cri::CONTAINER_EXITED;
  c.exit_code = record->exit_code;
  c.finished_at = record->finished_at;
  if (record->started_at && !c.started_at) c.started_at = record->started_at;
  c.reason = record->reason;
  c.message = record->message;
  return true;
}

void Runtime::OnContainerExit(const std::string& id) {
  std::shared_ptr<Container> container;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    container = it->second;
    if (container->state == cri::CONTAINER_EXITED) return;
    if (!ApplyExitRecord(*container)) return;
    exit_cv_.notify_all();
  }
  BERTH_LOG(Info) << "container exited" << Kv("id", id) << Kv("exit_code", container->exit_code)
                  << Kv("reason", container->reason);
  EmitEvent(*container, cri::CONTAINER_STOPPED_EVENT);
}

// ---- recovery ----

absl::Status Runtime::Recover() {
  ASSIGN_OR_RETURN(auto sandbox_ids, ListDir(options_.state_dir + "/sandboxes"));
  for (const auto& id : sandbox_ids) RecoverSandbox(id);
  ASSIGN_OR_RETURN(auto container_ids, ListDir(options_.state_dir + "/containers"));
  for (const auto& id : container_ids) RecoverContainer(id);
  // Attachments of sandboxes that no longer exist (removed while the agent
  // was down, or half-made by a crash) are deleted.
  if (cni_->NetworkReady().ok()) {
    absl::flat_hash_set<std::string> live;
    for (const auto& [id, sandbox] : sandboxes_) live.insert(id);
    absl::Status gc = cni_->GarbageCollect(live);
    if (!gc.ok()) {
      BERTH_LOG(Warning) << "CNI garbage collection" << Kv("error", gc.ToString());
    }
  }
  BERTH_LOG(Info) << "recovered state" << Kv("sandboxes", static_cast<long long>(sandboxes_.size()))
                  << Kv("containers", static_cast<long long>(containers_.size()));
  return absl::OkStatus();
}

void Runtime::RecoverSandbox(const std::string& id) {
  std::string dir = SandboxStateDir(id);
  auto config = ReadFile(dir + "/config.pb");
  auto state = ReadFile(dir + "/state.json");
  auto sandbox = std::make_shared<Sandbox>();
  if (!config.ok() || !state.ok() || !sandbox->config.ParseFromString(*config)) {
    // RunPodSandbox died before its record was complete: nothing refers to it.
    BERTH_LOG(Warning) << "removing incomplete sandbox" << Kv("id", id);
    UnpinNamespaces(SandboxRunDir(id) + "/ns").IgnoreError();
    RemoveAll(dir).IgnoreError();
    return;
  }
  try {
    auto j = nlohmann::json::parse(*state);
    sandbox->id = id;
    sandbox->state = static_cast<cri::PodSandboxState>(j.at("state").get<int>());
    sandbox->created_at = j.at("created_at").get<int64_t>();
    sandbox->cgroup = j.at("cgroup").get<std::string>();
    sandbox->owns_cgroup = j.at("owns_cgroup").get<bool>();
    sandbox->namespaces = j.at("namespaces").get<std::map<std::string, std::string>>();
    sandbox->pidns_init_pid = j.value("pidns_init_pid", "");
    sandbox->pod_ips = j.value("pod_ips", std::vector<std::string>{});
    sandbox->cni_attached = j.value("cni_attached", false);
  } catch (const std::exception& e) {
    BERTH_LOG(Error) << "unreadable sandbox state, skipped" << Kv("id", id) << Kv("error", e.what());
    return;
  }
  // After a host reboot the pins under /run are gone: the sandbox can't run
  // anything any more, so it is NOTREADY and its leftovers are released.
  for (const auto& [type, path] : sandbox->namespaces) {
    if (!IsPinnedNamespace(path)) sandbox->state = cri::SANDBOX_NOTREADY;
  }
  if (sandbox->state == cri::SANDBOX_NOTREADY) {
    // Release the address while the cache still says what was attached.
    DetachNetwork(*sandbox).IgnoreError();
    UnpinNamespaces(SandboxRunDir(id) + "/ns").IgnoreError();
    umount2((SandboxRunDir(id) + "/shm").c_str(), MNT_DETACH);
    SaveSandbox(*sandbox).IgnoreError();
  }
  const auto& md = sandbox->config.metadata();
  sandbox_names_.Reserve(absl::StrCat(md.name(), "_", md.namespace_(), "_", md.uid(), "_", md.attempt()), id)
      .IgnoreError();
  std::lock_guard<std::mutex> lock(mu_);
  sandboxes_[id] = sandbox;
}

void Runtime::RecoverContainer(const std::string& id) {
  std::string bundle = BundleDir(id);
  auto config = ReadFile(bundle + "/container.pb");
  auto state = ReadFile(bundle + "/state.json");
  auto c = std::make_shared<Container>();
  if (!config.ok() || !state.ok() || !c->config.ParseFromString(*config)) {
    BERTH_LOG(Warning) << "removing incomplete container" << Kv("id", id);
    ShimCommand(bundle, "shutdown", absl::Seconds(2)).IgnoreError();
    RemoveAll(bundle).IgnoreError();
    return;
  }
  try {
    auto j = nlohmann::json::parse(*state);
    c->id = id;
    c->sandbox_id = j.at("sandbox_id").get<std::string>();
    c->image_ref = j.at("image_ref").get<std::string>();
    c->image_id = j.at("image_id").get<std::string>();
    c->image_repo_digest = j.value("image_repo_digest", "");
    c->cgroup = j.at("cgroup").get<std::string>();
    c->log_path = j.at("log_path").get<std::string>();
    c->created_at = j.at("created_at").get<int64_t>();
    c->uid = j.value("uid", 0u);
    c->gid = j.value("gid", 0u);
    c->groups = j.value("groups", std::vector<uint32_t>{});
  } catch (const std::exception& e) {
    BERTH_LOG(Error) << "unreadable container state, skipped" << Kv("id", id) << Kv("error", e.what());
    return;
  }
  if (auto pid = ReadFile(bundle + "/init.pid"); pid.ok()) {
    absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid), &c->init_pid);
  }
  if (auto started = ReadFile(bundle + "/started"); started.ok()) {
    absl::SimpleAtoi(absl::StripAsciiWhitespace(*started), &c->started_at);
  }
  if (!ApplyExitRecord(*c)) {
    auto status = ShimCommand(bundle, "status", absl::Seconds(2));
    if (status.ok() && absl::StartsWith(*status, "running")) {
      c->state = cri::CONTAINER_RUNNING;
    } else if (status.ok() && absl::StartsWith(*status, "created")) {
      c->state = cri::CONTAINER_CREATED;
    } else if (status.ok() && absl::StartsWith(*status, "exited")) {
      // The shim is writing exit.json right now; the watcher will see it.
      c->state = cri::CONTAINER_RUNNING;
    } else {
      // No shim and no exit record: the host rebooted (or the shim was
      // killed). The container is gone; say so instead of guessing a code.
      c->state = cri::CONTAINER_EXITED;
      c->exit_code = 255;
      c->reason = "Unknown";
      c->message = "the container's shim is gone (host restarted?); exit status unknown";
      if (!c->finished_at) c->finished_at = NowUnixNanos();
      ExitRecord record;
      record.exit_code = c->exit_code;
      record.reason = c->reason;
      record.message = c->message;
      record.started_at = c->started_at;
      record.finished_at = c->finished_at;
      AtomicWriteFile(bundle + "/exit.json", ExitRecordToJson(record), 0600, false).IgnoreError();
      cgroups_->Destroy(c->cgroup).IgnoreError();
    }
  }
  std::string sandbox_name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto sb = sandboxes_.find(c->sandbox_id);
    if (sb != sandboxes_.end()) {
      const auto& md = sb->second->config.metadata();
      sandbox_name = absl::StrCat(md.name(), "_", md.namespace_(), "_", md.uid());
    }
  }
  container_names_
      .Reserve(absl::StrCat(c->config.metadata().name(), "_", sandbox_name, "_", c->config.metadata().attempt()), id)
      .IgnoreError();
  {
    std::lock_guard<std::mutex> lock(mu_);
    containers_[id] = c;
  }
  if (c->state != cri::CONTAINER_EXITED) {
    auto watched = exit_watcher_->Watch(id, bundle);
    if (!watched.ok()) {
      BERTH_LOG(Error) << "cannot watch container" << Kv("id", id) << Kv("error", watched.ToString());
    }
  }
}

cni::AttachmentRequest Runtime::CniRequest(const Sandbox& sandbox) const {
  cni::AttachmentRequest request;
  request.container_id = sandbox.id;
  auto net = sandbox.namespaces.find("net");
  if (net != sandbox.namespaces.end()) request.netns = net->second;
  const auto& md = sandbox.config.metadata();
  request.pod_namespace = md.namespace_();
  request.pod_name = md.name();
  request.pod_infra_container_id = sandbox.id;
  request.pod_uid = md.uid();
  for (const auto& port : sandbox.config.port_mappings()) {
    if (port.host_port() <= 0) continue;
    cni::PortMapping mapping;
    mapping.container_port = port.container_port();
    mapping.host_port = port.host_port();
    mapping.protocol = port.protocol() == cri::UDP ? "udp" : port.protocol() == cri::SCTP ? "sctp" : "tcp";
    mapping.host_ip = port.host_ip();
    request.port_mappings.push_back(std::move(mapping));
  }
  const auto& dns = sandbox.config.dns_config();
  request.dns.servers.assign(dns.servers().begin(), dns.servers().end());
  request.dns.searches.assign(dns.searches().begin(), dns.searches().end());
  request.dns.options.assign(dns.options().begin(), dns.options().end());
  return request;
}

absl::Status Runtime::DetachNetwork(Sandbox& sandbox) {
  if (!sandbox.cni_attached) return absl::OkStatus();
  RETURN_IF_ERROR(Annotate(cni_->Del(CniRequest(sandbox)), "CNI DEL"));
  sandbox.cni_attached = false;
  return SaveSandbox(sandbox);
}

void Runtime::EmitEvent(const Container& container, cri::ContainerEventType type) {
  cri::ContainerEventResponse event;
  event.set_container_id(container.id);
  event.set_container_event_type(type);
  event.set_created_at(NowUnixNanos());
  std::shared_ptr<Sandbox> sandbox;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sandboxes_.find(container.sandbox_id);
    if (it != sandboxes_.end()) sandbox = it->second;
    if (type != cri::CONTAINER_DELETED_EVENT) FillContainerStatus(container, event.add_containers_statuses());
    if (sandbox) FillSandboxStatus(*sandbox, event.mutable_pod_sandbox_status());
  }
  events_.Publish(event);
}

}  // namespace berth
