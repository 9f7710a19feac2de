#include "agent/config/kubelet_config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <functional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/k8s/codec.h"
#include "api/k8s/quantity.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::agent {
namespace {

using nlohmann::json;

absl::Status Bad(absl::string_view key, const std::string& value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid value for ", key, ": ", value, ": ", why));
}

std::string Show(const json& v) { return v.dump(); }

absl::StatusOr<std::string> AsString(absl::string_view key, const json& v) {
  if (!v.is_string()) return Bad(key, Show(v), "expected a string");
  return v.get<std::string>();
}

absl::StatusOr<int64_t> AsInt(absl::string_view key, const json& v) {
  if (!v.is_number_integer()) return Bad(key, Show(v), "expected an integer");
  return v.get<int64_t>();
}

absl::StatusOr<bool> AsBool(absl::string_view key, const json& v) {
  if (!v.is_boolean()) return Bad(key, Show(v), "expected true or false");
  return v.get<bool>();
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Checks shared by the file and the flags.
absl::Status CheckDuration(absl::string_view key, absl::Duration d, const std::string& shown) {
  if (d <= absl::ZeroDuration()) return Bad(key, shown, "must be greater than zero");
  return absl::OkStatus();
}

absl::Status SetDuration(absl::string_view key, const std::string& text, absl::Duration* out) {
  auto d = ParseGoDuration(text);
  if (!d.ok()) return Bad(key, absl::StrCat("\"", text, "\""), d.status().message());
  RETURN_IF_ERROR(CheckDuration(key, *d, absl::StrCat("\"", text, "\"")));
  *out = *d;
  return absl::OkStatus();
}

absl::Status SetMaxPods(absl::string_view key, int64_t v, KubeletConfig* c) {
  if (v <= 0 || v > 100000) return Bad(key, std::to_string(v), "must be between 1 and 100000");
  c->maxPods = static_cast<int32_t>(v);
  return absl::OkStatus();
}

absl::Status SetClusterDns(absl::string_view key, const std::vector<std::string>& ips, KubeletConfig* c) {
  for (const auto& ip : ips) {
    if (!IsIp(ip)) return Bad(key, absl::StrCat("\"", ip, "\""), "not an IP address");
  }
  c->clusterDNS = ips;
  return absl::OkStatus();
}

absl::Status SetPort(absl::string_view key, int64_t v, int32_t* out) {
  if (v < 0 || v > 65535) return Bad(key, std::to_string(v), "must be between 0 and 65535");
  *out = static_cast<int32_t>(v);
  return absl::OkStatus();
}

absl::Status SetBindAddress(absl::string_view key, const std::string& v, std::string* out) {
  if (!IsIp(v)) return Bad(key, absl::StrCat("\"", v, "\""), "not an IP address");
  *out = v;
  return absl::OkStatus();
}

absl::Status SetEndpoint(absl::string_view key, const std::string& v, std::string* out) {
  if (!v.empty() && v.rfind("unix://", 0) != 0) {
    return Bad(key, absl::StrCat("\"", v, "\""), "only unix:// endpoints are supported");
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status SetAbsPath(absl::string_view key, const std::string& v, std::string* out, bool allow_empty) {
  if (v.empty() && allow_empty) {
    *out = v;
    return absl::OkStatus();
  }
  if (v.empty() || v[0] != '/') return Bad(key, absl::StrCat("\"", v, "\""), "must be an absolute path");
  *out = v;
  return absl::OkStatus();
}

absl::Status SetPidsLimit(absl::string_view key, int64_t v, KubeletConfig* c) {
  if (v < -1 || v == 0) return Bad(key, std::to_string(v), "must be -1 (unlimited) or positive");
  c->podPidsLimit = v;
  return absl::OkStatus();
}

// Keys of KubeletConfiguration v1beta1 that berth accepts and does not act on.
const std::set<std::string>& IgnoredKeys() {
  static const auto* keys = new std::set<std::string>{
      "enableServer", "staticPodURL", "staticPodURLHeader", "address", "port", "readOnlyPort",
      "tlsCertFile", "tlsPrivateKeyFile", "tlsCipherSuites", "tlsMinVersion", "rotateCertificates",
      "serverTLSBootstrap", "authentication", "authorization", "registryPullQPS", "registryBurst",
      "eventRecordQPS", "eventBurst", "enableDebuggingHandlers", "enableContentionProfiling",
      "oomScoreAdj", "streamingConnectionIdleTimeout", "nodeStatusUpdateFrequency",
      "nodeStatusReportFrequency", "nodeLeaseDurationSeconds", "imageMinimumGCAge",
      "imageMaximumGCAge", "imageGCHighThresholdPercent", "imageGCLowThresholdPercent",
      "volumeStatsAggPeriod", "kubeletCgroups", "systemCgroups", "cpuManagerPolicy",
      "cpuManagerReconcilePeriod", "memoryManagerPolicy", "topologyManagerPolicy",
      "topologyManagerScope", "hairpinMode", "podCIDR", "cpuCFSQuota", "cpuCFSQuotaPeriod",
      "maxOpenFiles", "contentType", "kubeAPIQPS", "kubeAPIBurst", "maxParallelImagePulls",
      "evictionHard", "evictionSoft", "evictionSoftGracePeriod", "evictionPressureTransitionPeriod",
      "evictionMaxPodGracePeriod", "evictionMinimumReclaim", "podsPerCore", "enableControllerAttachDetach",
      "protectKernelDefaults", "makeIPTablesUtilChains", "featureGates", "failSwapOn", "memorySwap",
      "containerLogMaxWorkers", "containerLogMonitorInterval", "configMapAndSecretChangeDetectionStrategy",
      "systemReserved", "kubeReserved", "reservedSystemCPUs", "showHiddenMetricsForVersion",
      "systemReservedCgroup", "kubeReservedCgroup", "enforceNodeAllocatable", "allowedUnsafeSysctls",
      "volumePluginDir", "providerID", "kernelMemcgNotification", "logging", "enableSystemLogHandler",
      "enableSystemLogQuery", "shutdownGracePeriod", "shutdownGracePeriodCriticalPods",
      "shutdownGracePeriodByPodPriority", "reservedMemory", "enableProfilingHandler",
      "seccompDefault", "memoryThrottlingFactor", "registerWithTaints", "registerNode", "tracing",
      "localStorageCapacityIsolation", "imageServiceEndpoint", "failCgroupV1", "singleProcessOOMKill",
      "crashLoopBackOff", "mergeDefaultEvictionSettings", "userNamespaces", "imagePullCredentialsVerificationPolicy",
      "preloadedImagesVerificationAllowlist", "httpCheckFrequency"};
  return *keys;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text) {
  absl::Duration d;
  if (text.empty() || !absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat("not a duration like \"1m0s\", \"20s\", \"500ms\""));
  }
  return d;
}

absl::StatusOr<KubeletConfig> ParseKubeletConfig(absl::string_view text) {
  auto docs = k8s::YamlToJson(std::string(text));
  if (!docs.ok()) return Annotate(docs.status(), "KubeletConfiguration");
  if (docs->size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("KubeletConfiguration: expected one document, found ", docs->size()));
  }
  const json& doc = (*docs)[0];
  if (!doc.is_object()) return absl::InvalidArgumentError("KubeletConfiguration: expected an object");
  KubeletConfig c;
  std::string api_version = doc.value("apiVersion", json()).is_string() ? doc["apiVersion"].get<std::string>() : "";
  std::string kind = doc.value("kind", json()).is_string() ? doc["kind"].get<std::string>() : "";
  if (api_version != "kubelet.config.k8s.io/v1beta1") {
    return absl::InvalidArgumentError(absl::StrCat(
        "apiVersion: \"", api_version, "\" is not kubelet.config.k8s.io/v1beta1"));
  }
  if (kind != "KubeletConfiguration") {
    return absl::InvalidArgumentError(absl::StrCat("kind: \"", kind, "\" is not KubeletConfiguration"));
  }
  for (const auto& [key, v] : doc.items()) {
    if (key == "apiVersion" || key == "kind") continue;
    if (IgnoredKeys().count(key)) continue;
    if (key == "staticPodPath") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      RETURN_IF_ERROR(SetAbsPath(key, s, &c.staticPodPath, true));
    } else if (key == "syncFrequency" || key == "fileCheckFrequency" || key == "runtimeRequestTimeout") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      absl::Duration* out = key == "syncFrequency"        ? &c.syncFrequency
                            : key == "fileCheckFrequency" ? &c.fileCheckFrequency
                                                          : &c.runtimeRequestTimeout;
      RETURN_IF_ERROR(SetDuration(key, s, out));
    } else if (key == "maxPods") {
      ASSIGN_OR_RETURN(int64_t n, AsInt(key, v));
      RETURN_IF_ERROR(SetMaxPods(key, n, &c));
    } else if (key == "cgroupDriver") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      if (s != "cgroupfs" && s != "systemd") return Bad(key, Show(v), "must be cgroupfs or systemd");
      c.cgroupDriver = s;
      c.cgroupDriverSet = true;
    } else if (key == "cgroupRoot") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      RETURN_IF_ERROR(SetAbsPath(key, s, &c.cgroupRoot, true));
    } else if (key == "cgroupsPerQOS") {
      ASSIGN_OR_RETURN(c.cgroupsPerQOS, AsBool(key, v));
    } else if (key == "clusterDNS") {
      if (!v.is_array()) return Bad(key, Show(v), "expected a list of IP addresses");
      std::vector<std::string> ips;
      for (const auto& ip : v) {
        ASSIGN_OR_RETURN(std::string s, AsString(key, ip));
        ips.push_back(s);
      }
      RETURN_IF_ERROR(SetClusterDns(key, ips, &c));
    } else if (key == "clusterDomain") {
      ASSIGN_OR_RETURN(c.clusterDomain, AsString(key, v));
    } else if (key == "resolvConf") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      RETURN_IF_ERROR(SetAbsPath(key, s, &c.resolvConf, true));
    } else if (key == "serializeImagePulls") {
      ASSIGN_OR_RETURN(c.serializeImagePulls, AsBool(key, v));
    } else if (key == "podPidsLimit") {
      ASSIGN_OR_RETURN(int64_t n, AsInt(key, v));
      RETURN_IF_ERROR(SetPidsLimit(key, n, &c));
    } else if (key == "containerLogMaxSize") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      auto q = k8s::Quantity::Parse(s);
      if (!q.ok() || q->Value() <= 0) return Bad(key, Show(v), "must be a positive quantity like 10Mi");
      c.containerLogMaxSize = s;
    } else if (key == "containerLogMaxFiles") {
      ASSIGN_OR_RETURN(int64_t n, AsInt(key, v));
      if (n < 2) return Bad(key, Show(v), "must be at least 2");
      c.containerLogMaxFiles = static_cast<int32_t>(n);
    } else if (key == "podLogsDir") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      RETURN_IF_ERROR(SetAbsPath(key, s, &c.podLogsDir, false));
    } else if (key == "healthzPort") {
      ASSIGN_OR_RETURN(int64_t n, AsInt(key, v));
      RETURN_IF_ERROR(SetPort(key, n, &c.healthzPort));
    } else if (key == "healthzBindAddress") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      RETURN_IF_ERROR(SetBindAddress(key, s, &c.healthzBindAddress));
    } else if (key == "containerRuntimeEndpoint") {
      ASSIGN_OR_RETURN(std::string s, AsString(key, v));
      RETURN_IF_ERROR(SetEndpoint(key, s, &c.containerRuntimeEndpoint));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("KubeletConfiguration: unknown field \"", key, "\""));
    }
  }
  return c;
}

absl::StatusOr<KubeletConfig> LoadKubeletConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return Annotate(text.status(), absl::StrCat("--config ", path));
  auto c = ParseKubeletConfig(*text);
  if (!c.ok()) return Annotate(c.status(), path);
  return c;
}

namespace {

using FlagSetter = std::function<absl::Status(const std::string& name, const std::string& v, KubeletConfig*)>;

absl::StatusOr<int64_t> FlagInt(const std::string& name, const std::string& v) {
  int64_t n;
  if (!absl::SimpleAtoi(v, &n)) return Bad("--" + name, absl::StrCat("\"", v, "\""), "expected an integer");
  return n;
}

const std::map<std::string, FlagSetter>& FlagSetters() {
  static const auto* setters = new std::map<std::string, FlagSetter>{
      {"pod-manifest-path",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetAbsPath("--" + n, v, &c->staticPodPath, true);
       }},
      {"node-name",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         if (v.empty()) return Bad("--" + n, "\"\"", "must not be empty");
         c->nodeName = absl::AsciiStrToLower(v);  // the kubelet lowercases the node name
         return absl::OkStatus();
       }},
      {"container-log-max-size",
       [](const std::string& n, const std::string& v, KubeletConfig* c) -> absl::Status {
         auto q = k8s::Quantity::Parse(v);
         if (!q.ok() || q->Value() <= 0) return Bad("--" + n, absl::StrCat("\"", v, "\""), "must be a positive quantity like 10Mi");
         c->containerLogMaxSize = v;
         return absl::OkStatus();
       }},
      {"container-log-max-files",
       [](const std::string& n, const std::string& v, KubeletConfig* c) -> absl::Status {
         ASSIGN_OR_RETURN(int64_t i, FlagInt(n, v));
         if (i < 2) return Bad("--" + n, v, "must be at least 2");
         c->containerLogMaxFiles = static_cast<int32_t>(i);
         return absl::OkStatus();
       }},
      {"max-pods",
       [](const std::string& n, const std::string& v, KubeletConfig* c) -> absl::Status {
         ASSIGN_OR_RETURN(int64_t i, FlagInt(n, v));
         return SetMaxPods("--" + n, i, c);
       }},
      {"sync-frequency",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetDuration("--" + n, v, &c->syncFrequency);
       }},
      {"file-check-frequency",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetDuration("--" + n, v, &c->fileCheckFrequency);
       }},
      {"runtime-request-timeout",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetDuration("--" + n, v, &c->runtimeRequestTimeout);
       }},
      {"crash-loop-backoff-base",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetDuration("--" + n, v, &c->crashLoopBackOffBase);
       }},
      {"crash-loop-backoff-max",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetDuration("--" + n, v, &c->crashLoopBackOffMax);
       }},
      {"device-plugins-dir",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetAbsPath("--" + n, v, &c->devicePluginsDir, false);
       }},
      {"device-plugin-grace-period",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetDuration("--" + n, v, &c->devicePluginGracePeriod);
       }},
      {"cluster-dns",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetClusterDns("--" + n, absl::StrSplit(v, ',', absl::SkipEmpty()), c);
       }},
      {"cluster-domain",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         c->clusterDomain = v;
         return absl::OkStatus();
       }},
      {"resolv-conf",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetAbsPath("--" + n, v, &c->resolvConf, true);
       }},
      {"healthz-port",
       [](const std::string& n, const std::string& v, KubeletConfig* c) -> absl::Status {
         ASSIGN_OR_RETURN(int64_t i, FlagInt(n, v));
         return SetPort("--" + n, i, &c->healthzPort);
       }},
      {"healthz-bind-address",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetBindAddress("--" + n, v, &c->healthzBindAddress);
       }},
      {"pod-logs-dir",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetAbsPath("--" + n, v, &c->podLogsDir, false);
       }},
      {"container-runtime-endpoint",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         return SetEndpoint("--" + n, v, &c->containerRuntimeEndpoint);
       }},
      {"pod-max-pids",
       [](const std::string& n, const std::string& v, KubeletConfig* c) -> absl::Status {
         ASSIGN_OR_RETURN(int64_t i, FlagInt(n, v));
         return SetPidsLimit("--" + n, i, c);
       }},
      {"serialize-image-pulls",
       [](const std::string& n, const std::string& v, KubeletConfig* c) {
         if (v != "true" && v != "false") return Bad("--" + n, absl::StrCat("\"", v, "\""), "expected true or false");
         c->serializeImagePulls = v == "true";
         return absl::OkStatus();
       }},
  };
  return *setters;
}

}  // namespace

int64_t ContainerLogMaxSizeBytes(const KubeletConfig& config) {
  auto q = k8s::Quantity::Parse(config.containerLogMaxSize);
  return q.ok() && q->Value() > 0 ? q->Value() : 0;
}

bool IsKubeletFlag(absl::string_view name) {
  return FlagSetters().count(std::string(name)) > 0 || name == "hostname-override";
}

std::vector<std::string> KubeletFlagNames() {
  std::vector<std::string> names = {"hostname-override"};
  for (const auto& [name, setter] : FlagSetters()) names.push_back(name);
  return names;
}

absl::Status ApplyKubeletFlags(const std::map<std::string, std::string>& flags, KubeletConfig* config) {
  KubeletConfig out = *config;
  for (const auto& [name, value] : flags) {
    std::string key = name == "hostname-override" ? "node-name" : name;
    auto it = FlagSetters().find(key);
    if (it == FlagSetters().end()) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    RETURN_IF_ERROR(it->second(name, value, &out));
  }
  if (out.nodeName.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) return ErrnoError("gethostname");
    out.nodeName = absl::AsciiStrToLower(host);
  }
  *config = std::move(out);
  return absl::OkStatus();
}

}  // namespace berth::agent
