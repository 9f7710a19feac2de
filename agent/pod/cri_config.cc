#include "agent/pod/cri_config.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/pod/expansion.h"
#include "agent/pod/labels.h"
#include "agent/pod/pod_actions.h"
#include "api/k8s/json_codec.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace berth::agent {
namespace {

constexpr int64_t kMinShares = 2;
constexpr int64_t kSharesPerCpu = 1024;
constexpr int64_t kQuotaPeriod = 100000;
constexpr int64_t kMinQuota = 1000;

const char* const kMaskedPaths[] = {"/proc/asound",        "/proc/acpi",         "/proc/kcore",
                                    "/proc/keys",          "/proc/latency_stats", "/proc/timer_list",
                                    "/proc/timer_stats",   "/proc/sched_debug",  "/proc/scsi",
                                    "/sys/firmware",       "/sys/devices/virtual/powercap"};
const char* const kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

int64_t Milli(const k8s::ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? 0 : it->second.MilliValue();
}
int64_t Value(const k8s::ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? 0 : it->second.Value();
}

cri::NamespaceOption NamespaceOptions(const k8s::PodSpec& spec) {
  cri::NamespaceOption ns;
  ns.set_network(spec.hostNetwork ? cri::NODE : cri::POD);
  ns.set_ipc(spec.hostIPC ? cri::NODE : cri::POD);
  if (spec.hostPID) {
    ns.set_pid(cri::NODE);
  } else if (spec.shareProcessNamespace.value_or(false)) {
    ns.set_pid(cri::POD);
  } else {
    ns.set_pid(cri::CONTAINER);
  }
  return ns;
}

void SetSeccomp(const std::optional<k8s::SeccompProfile>& profile, const std::string& root,
                cri::SecurityProfile* out) {
  if (!profile || profile->type == "Unconfined") {
    out->set_profile_type(cri::SecurityProfile::Unconfined);
  } else if (profile->type == "RuntimeDefault") {
    out->set_profile_type(cri::SecurityProfile::RuntimeDefault);
  } else {
    out->set_profile_type(cri::SecurityProfile::Localhost);
    out->set_localhost_ref(root + "/" + profile->localhostProfile.value_or(""));
  }
}

cri::Protocol ProtocolOf(const std::string& p) {
  if (p == "UDP") return cri::UDP;
  if (p == "SCTP") return cri::SCTP;
  return cri::TCP;
}

std::string PodHostname(const k8s::Pod& pod) {
  std::string name = pod.spec.hostname.empty() ? pod.metadata.name : pod.spec.hostname;
  if (name.size() > 63) name = name.substr(0, 63);
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name;
}

void ParseResolvConf(const std::string& text, cri::DNSConfig* dns) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.empty()) continue;
    if (f[0] == "nameserver" && f.size() > 1) dns->add_servers(f[1]);
    if (f[0] == "search") {
      dns->clear_searches();
      for (size_t i = 1; i < f.size(); ++i) dns->add_searches(f[i]);
    }
    if (f[0] == "options") {
      for (size_t i = 1; i < f.size(); ++i) dns->add_options(f[i]);
    }
  }
}

cri::DNSConfig MakeDns(const k8s::Pod& pod, const CriConfigOptions& o) {
  cri::DNSConfig dns;
  std::string policy = pod.spec.dnsPolicy.empty() ? "ClusterFirst" : pod.spec.dnsPolicy;
  if (policy == "ClusterFirst" && pod.spec.hostNetwork) policy = "Default";
  if (policy == "ClusterFirstWithHostNet") policy = "ClusterFirst";
  if (policy == "ClusterFirst" && o.cluster_dns.empty()) policy = "Default";  // the kubelet falls back
  if (policy == "ClusterFirst") {
    for (const auto& s : o.cluster_dns) dns.add_servers(s);
    std::string domain = o.cluster_domain.empty() ? "cluster.local" : o.cluster_domain;
    dns.add_searches(absl::StrCat(pod.metadata.namespace_, ".svc.", domain));
    dns.add_searches(absl::StrCat("svc.", domain));
    dns.add_searches(domain);
    cri::DNSConfig host;
    ParseResolvConf(o.host_resolv_conf, &host);
    for (const auto& s : host.searches()) dns.add_searches(s);
    dns.add_options("ndots:5");
  } else if (policy == "Default") {
    ParseResolvConf(o.host_resolv_conf, &dns);
  }
  if (pod.spec.dnsConfig) {
    for (const auto& s : pod.spec.dnsConfig->nameservers) dns.add_servers(s);
    for (const auto& s : pod.spec.dnsConfig->searches) dns.add_searches(s);
    for (const auto& opt : pod.spec.dnsConfig->options) {
      std::string text = opt.value ? absl::StrCat(opt.name, ":", *opt.value) : opt.name;
      // A pod option replaces one of the same name.
      auto* opts = dns.mutable_options();
      opts->erase(std::remove_if(opts->begin(), opts->end(),
                                 [&](const std::string& o) {
                                   return o == opt.name || absl::StartsWith(o, opt.name + ":");
                                 }),
                  opts->end());
      dns.add_options(text);
    }
  }
  return dns;
}

bool AnyPrivileged(const k8s::PodSpec& spec) {
  for (const auto* list : {&spec.initContainers, &spec.containers}) {
    for (const auto& c : *list) {
      if (c.securityContext && c.securityContext->privileged.value_or(false)) return true;
    }
  }
  return false;
}

}  // namespace

std::string PodLogDir(const k8s::Pod& pod, const std::string& pod_logs_dir) {
  return absl::StrCat(pod_logs_dir, "/", pod.metadata.namespace_, "_", pod.metadata.name, "_", pod.metadata.uid);
}

std::string QosClass(const k8s::Pod& pod) {
  bool any = false, guaranteed = true;
  for (const auto* list : {&pod.spec.initContainers, &pod.spec.containers}) {
    for (const auto& c : *list) {
      const auto& r = c.resources;
      for (const char* name : {"cpu", "memory"}) {
        bool req = r.requests.count(name) && !r.requests.at(name).IsZero();
        bool lim = r.limits.count(name) && !r.limits.at(name).IsZero();
        any |= req || lim;
        if (!lim) guaranteed = false;
        if (req && lim && !(r.requests.at(name) == r.limits.at(name))) guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

cri::PodSandboxConfig MakeSandboxConfig(const k8s::Pod& pod, uint32_t attempt, const CriConfigOptions& o) {
  cri::PodSandboxConfig c;
  auto* md = c.mutable_metadata();
  md->set_name(pod.metadata.name);
  md->set_namespace_(pod.metadata.namespace_);
  md->set_uid(pod.metadata.uid);
  md->set_attempt(attempt);
  if (!pod.spec.hostNetwork) c.set_hostname(PodHostname(pod));
  c.set_log_directory(PodLogDir(pod, o.pod_logs_dir));
  *c.mutable_dns_config() = MakeDns(pod, o);
  for (const auto& container : pod.spec.containers) {
    for (const auto& p : container.ports) {
      auto* pm = c.add_port_mappings();
      pm->set_protocol(ProtocolOf(p.protocol));
      pm->set_container_port(p.containerPort);
      pm->set_host_port(p.hostPort);
      pm->set_host_ip(p.hostIP);
    }
  }
  for (const auto& [k, v] : pod.metadata.labels) (*c.mutable_labels())[k] = v;
  (*c.mutable_labels())[kPodNameLabel] = pod.metadata.name;
  (*c.mutable_labels())[kPodNamespaceLabel] = pod.metadata.namespace_;
  (*c.mutable_labels())[kPodUidLabel] = pod.metadata.uid;
  for (const auto& [k, v] : pod.metadata.annotations) (*c.mutable_annotations())[k] = v;
  auto* linux = c.mutable_linux();
  linux->set_cgroup_parent(o.cgroup_parent);
  auto* sc = linux->mutable_security_context();
  *sc->mutable_namespace_options() = NamespaceOptions(pod.spec);
  sc->set_privileged(AnyPrivileged(pod.spec));
  if (const auto& psc = pod.spec.securityContext) {
    if (psc->runAsUser) sc->mutable_run_as_user()->set_value(*psc->runAsUser);
    if (psc->runAsGroup) sc->mutable_run_as_group()->set_value(*psc->runAsGroup);
    for (int64_t g : psc->supplementalGroups) sc->add_supplemental_groups(g);
    if (psc->fsGroup) sc->add_supplemental_groups(*psc->fsGroup);
    for (const auto& s : psc->sysctls) (*linux->mutable_sysctls())[s.name] = s.value;
    SetSeccomp(psc->seccompProfile, o.seccomp_root, sc->mutable_seccomp());
  } else {
    SetSeccomp(std::nullopt, o.seccomp_root, sc->mutable_seccomp());
  }
  std::string hash = SandboxConfigHash(c);
  (*c.mutable_annotations())[kSandboxHashAnnotation] = hash;
  return c;
}

std::string SandboxConfigHash(const cri::PodSandboxConfig& config) {
  cri::PodSandboxConfig copy = config;
  copy.mutable_metadata()->set_attempt(0);
  copy.mutable_annotations()->erase(kSandboxHashAnnotation);
  // When the agent first saw the pod: differs after an agent restart, changes nothing.
  copy.mutable_annotations()->erase(kConfigSeenAnnotation);
  std::string text;
  google::protobuf::io::StringOutputStream stream(&text);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  copy.SerializeToCodedStream(&coded);
  coded.Trim();
  uint32_t h = 2166136261u;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 16777619u;
  }
  char buf[16];
  snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MakeEnv(
    const k8s::Pod& pod, const k8s::Container& container, const ContainerRuntimeInputs& in,
    const CriConfigOptions& o) {
  std::vector<std::pair<std::string, std::string>> env;
  std::map<std::string, std::string> defined;
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = defined.find(name);
    if (it == defined.end()) return std::nullopt;
    return it->second;
  };
  for (size_t i = 0; i < container.envFrom.size(); ++i) {
    const auto& from = container.envFrom[i];
    bool optional = false;
    const auto& ref = !from.configMapRef.is_null() ? from.configMapRef : from.secretRef;
    if (ref.is_object() && ref.contains("optional") && ref["optional"].is_boolean()) optional = ref["optional"].get<bool>();
    if (optional) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "envFrom[", i, "]: ", !from.configMapRef.is_null() ? "configMapRef" : "secretRef",
        " needs the API server (static pods have none)"));
  }
  for (size_t i = 0; i < container.env.size(); ++i) {
    const auto& e = container.env[i];
    std::string value;
    if (e.valueFrom.is_null()) {
      value = ExpandVars(e.value, lookup);
    } else if (e.valueFrom.contains("fieldRef")) {
      std::string path = e.valueFrom["fieldRef"].value("fieldPath", "");
      if (path == "metadata.name") {
        value = pod.metadata.name;
      } else if (path == "metadata.namespace") {
        value = pod.metadata.namespace_;
      } else if (path == "metadata.uid") {
        value = pod.metadata.uid;
      } else if (path == "spec.nodeName") {
        value = pod.spec.nodeName;
      } else if (path == "spec.serviceAccountName") {
        value = pod.spec.serviceAccountName;
      } else if (path == "status.podIP") {
        value = in.pod_ip;
      } else if (path == "status.podIPs") {
        value = absl::StrJoin(in.pod_ips, ",");
      } else if (path == "status.hostIP" || path == "status.hostIPs") {
        value = in.host_ip;
      } else if (absl::StartsWith(path, "metadata.labels['") && absl::EndsWith(path, "']")) {
        std::string key = path.substr(17, path.size() - 19);
        auto it = pod.metadata.labels.find(key);
        if (it != pod.metadata.labels.end()) value = it->second;
      } else if (absl::StartsWith(path, "metadata.annotations['") && absl::EndsWith(path, "']")) {
        std::string key = path.substr(22, path.size() - 24);
        auto it = pod.metadata.annotations.find(key);
        if (it != pod.metadata.annotations.end()) value = it->second;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("env[", i, "] ", e.name, ": unsupported fieldRef.fieldPath \"", path, "\""));
      }
    } else if (e.valueFrom.contains("resourceFieldRef")) {
      const auto& ref = e.valueFrom["resourceFieldRef"];
      std::string resource = ref.value("resource", "");
      const k8s::Container* target = &container;
      std::string cname = ref.value("containerName", "");
      if (!cname.empty()) {
        target = nullptr;
        for (const auto& c : pod.spec.containers) if (c.name == cname) target = &c;
        for (const auto& c : pod.spec.initContainers) if (c.name == cname) target = &c;
        if (!target) {
          return absl::InvalidArgumentError(
              absl::StrCat("env[", i, "] ", e.name, ": resourceFieldRef.containerName \"", cname, "\" not found"));
        }
      }
      k8s::Quantity divisor = k8s::Quantity::FromMilli(1000);
      if (ref.contains("divisor") && ref["divisor"].is_string()) {
        auto d = k8s::Quantity::Parse(ref["divisor"].get<std::string>());
        if (d.ok() && !d->IsZero()) divisor = *d;
      }
      const auto& r = target->resources;
      int64_t milli = 0;
      bool cpu = absl::EndsWith(resource, ".cpu");
      if (resource == "limits.cpu") {
        milli = r.limits.count("cpu") ? Milli(r.limits, "cpu") : o.node_milli_cpu;
      } else if (resource == "requests.cpu") {
        milli = Milli(r.requests, "cpu");
      } else if (resource == "limits.memory") {
        milli = (r.limits.count("memory") ? Value(r.limits, "memory") : o.node_memory_bytes) * 1000;
      } else if (resource == "requests.memory") {
        milli = Value(r.requests, "memory") * 1000;
      } else if (resource == "limits.ephemeral-storage" || resource == "requests.ephemeral-storage") {
        milli = Value(resource[0] == 'l' ? r.limits : r.requests, "ephemeral-storage") * 1000;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("env[", i, "] ", e.name, ": unsupported resourceFieldRef.resource \"", resource, "\""));
      }
      // Rounded up to whole divisors, as the kubelet does (cpu at least 1 when set).
      int64_t div = divisor.MilliValue();
      int64_t n = div > 0 ? (milli + div - 1) / div : 0;
      if (cpu && n == 0 && milli > 0) n = 1;
      value = std::to_string(n);
    } else {
      bool optional = false;
      for (const char* key : {"configMapKeyRef", "secretKeyRef"}) {
        if (e.valueFrom.contains(key) && e.valueFrom[key].is_object()) {
          optional = e.valueFrom[key].value("optional", false);
        }
      }
      if (optional) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          "env[", i, "] ", e.name, ": valueFrom ", e.valueFrom.dump(), " needs the API server (static pods have none)"));
    }
    defined[e.name] = value;
    bool replaced = false;
    for (auto& [k, v] : env) {
      if (k == e.name) {
        v = value;
        replaced = true;
      }
    }
    if (!replaced) env.emplace_back(e.name, value);
  }
  return env;
}

absl::StatusOr<cri::ContainerConfig> MakeContainerConfig(const k8s::Pod& pod, const k8s::Container& container,
                                                         const ContainerRuntimeInputs& in,
                                                         const CriConfigOptions& o) {
  cri::ContainerConfig c;
  c.mutable_metadata()->set_name(container.name);
  c.mutable_metadata()->set_attempt(static_cast<uint32_t>(in.restart_count));
  c.mutable_image()->set_image(container.image);
  c.mutable_image()->set_user_specified_image(container.image);

  auto env = MakeEnv(pod, container, in, o);
  if (!env.ok()) return env.status();
  std::map<std::string, std::string> env_map(env->begin(), env->end());
  VarLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env_map.find(name);
    if (it == env_map.end()) return std::nullopt;
    return it->second;
  };
  for (const auto& s : container.command) c.add_command(ExpandVars(s, lookup));
  for (const auto& s : container.args) c.add_args(ExpandVars(s, lookup));
  c.set_working_dir(container.workingDir);
  for (const auto& [k, v] : *env) {
    auto* kv = c.add_envs();
    kv->set_key(k);
    kv->set_value(v);
  }

  if (in.mounts) {
    for (const auto& m : *in.mounts) *c.add_mounts() = m;
  }
  for (size_t i = 0; !in.mounts && i < container.volumeMounts.size(); ++i) {
    const auto& vm = container.volumeMounts[i];
    auto it = in.volume_paths.find(vm.name);
    if (it == in.volume_paths.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("volumeMounts[", i, "].name: volume \"", vm.name, "\" is not ready or not supported"));
    }
    auto* m = c.add_mounts();
    m->set_container_path(vm.mountPath);
    std::string host = it->second;
    if (!vm.subPath.empty()) host += "/" + vm.subPath;
    m->set_host_path(host);
    m->set_readonly(vm.readOnly);
    std::string prop = vm.mountPropagation.value_or("None");
    m->set_propagation(prop == "HostToContainer" ? cri::PROPAGATION_HOST_TO_CONTAINER
                       : prop == "Bidirectional" ? cri::PROPAGATION_BIDIRECTIONAL
                                                 : cri::PROPAGATION_PRIVATE);
  }

  auto& labels = *c.mutable_labels();
  labels[kPodNameLabel] = pod.metadata.name;
  labels[kPodNamespaceLabel] = pod.metadata.namespace_;
  labels[kPodUidLabel] = pod.metadata.uid;
  labels[kContainerNameLabel] = container.name;
  auto& ann = *c.mutable_annotations();
  ann[kContainerHashAnnotation] = ContainerHash(container);
  ann[kContainerRestartCountAnnotation] = std::to_string(in.restart_count);
  ann[kTerminationMessagePathAnnotation] = container.terminationMessagePath;
  ann[kTerminationMessagePolicyAnnotation] = container.terminationMessagePolicy;
  ann[kTerminationGracePeriodAnnotation] = std::to_string(pod.spec.terminationGracePeriodSeconds.value_or(30));
  c.set_log_path(absl::StrCat(container.name, "/", in.restart_count, ".log"));
  c.set_stdin(container.stdin);
  c.set_stdin_once(container.stdinOnce);
  c.set_tty(container.tty);

  // Resources.
  auto* res = c.mutable_linux()->mutable_resources();
  const auto& r = container.resources;
  int64_t cpu_request = Milli(r.requests, "cpu");
  int64_t cpu_limit = Milli(r.limits, "cpu");
  if (cpu_request == 0 && cpu_limit > 0) cpu_request = cpu_limit;
  res->set_cpu_shares(std::max(kMinShares, cpu_request * kSharesPerCpu / 1000));
  if (cpu_limit > 0) {
    res->set_cpu_period(kQuotaPeriod);
    res->set_cpu_quota(std::max(kMinQuota, cpu_limit * kQuotaPeriod / 1000));
  }
  int64_t mem_limit = Value(r.limits, "memory");
  if (mem_limit > 0) res->set_memory_limit_in_bytes(mem_limit);
  std::string qos = QosClass(pod);
  int64_t oom = 0;
  if (qos == "Guaranteed") {
    oom = -997;
  } else if (qos == "BestEffort") {
    oom = 1000;
  } else {
    int64_t mem_request = Value(r.requests, "memory");
    oom = o.node_memory_bytes > 0 ? 1000 - (1000 * mem_request) / o.node_memory_bytes : 999;
    oom = std::clamp<int64_t>(oom, 3, 999);  // Burstable stays above Guaranteed and the system
  }
  res->set_oom_score_adj(oom);

  // Security context: the container's fields over the pod's.
  auto* sc = c.mutable_linux()->mutable_security_context();
  *sc->mutable_namespace_options() = NamespaceOptions(pod.spec);
  const auto& psc = pod.spec.securityContext;
  const auto& csc = container.securityContext;
  // -1: not set (the image's user / group applies).
  int64_t uid = -1, gid = -1;
  if (psc && psc->runAsUser.has_value()) uid = psc->runAsUser.value();
  if (csc && csc->runAsUser.has_value()) uid = csc->runAsUser.value();
  if (psc && psc->runAsGroup.has_value()) gid = psc->runAsGroup.value();
  if (csc && csc->runAsGroup.has_value()) gid = csc->runAsGroup.value();
  bool non_root = psc && psc->runAsNonRoot.value_or(false);
  if (csc && csc->runAsNonRoot.has_value()) non_root = csc->runAsNonRoot.value();
  if (non_root && uid == 0) {
    return absl::InvalidArgumentError("securityContext.runAsNonRoot: container's runAsUser breaks non-root policy");
  }
  if (uid >= 0) sc->mutable_run_as_user()->set_value(uid);
  if (gid >= 0) sc->mutable_run_as_group()->set_value(gid);
  if (psc) {
    for (int64_t g : psc->supplementalGroups) sc->add_supplemental_groups(g);
    if (psc->fsGroup) sc->add_supplemental_groups(*psc->fsGroup);
  }
  bool privileged = csc && csc->privileged.value_or(false);
  sc->set_privileged(privileged);
  if (csc && csc->capabilities) {
    for (const auto& cap : csc->capabilities->add) sc->mutable_capabilities()->add_add_capabilities(cap);
    for (const auto& cap : csc->capabilities->drop) sc->mutable_capabilities()->add_drop_capabilities(cap);
  }
  sc->set_readonly_rootfs(csc && csc->readOnlyRootFilesystem.value_or(false));
  sc->set_no_new_privs(csc && csc->allowPrivilegeEscalation && !*csc->allowPrivilegeEscalation);
  SetSeccomp(csc && csc->seccompProfile ? csc->seccompProfile : (psc ? psc->seccompProfile : std::nullopt),
             o.seccomp_root, sc->mutable_seccomp());
  bool unmasked = csc && csc->procMount && *csc->procMount == "Unmasked";
  if (!privileged && !unmasked) {
    for (const char* p : kMaskedPaths) sc->add_masked_paths(p);
    for (const char* p : kReadonlyPaths) sc->add_readonly_paths(p);
  }
  return c;
}

}  // namespace berth::agent
