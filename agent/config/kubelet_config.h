// KubeletConfiguration (kubelet.config.k8s.io/v1beta1): the fields berth-agent
// reads, with the kubelet's defaults, from a YAML or JSON file, and the
// command-line flags that override them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::agent {

struct KubeletConfig {
  // Static pods: watched with inotify plus a rescan every fileCheckFrequency.
  // (The kubelet's default is empty; berth follows DESIGN.md's path.)
  std::string staticPodPath = "/etc/kubernetes/manifests";
  absl::Duration fileCheckFrequency = absl::Seconds(20);
  // The relist safety net under the runtime's event stream.
  absl::Duration syncFrequency = absl::Minutes(1);
  int32_t maxPods = 110;
  std::string cgroupDriver = "cgroupfs";  // cgroupfs or systemd
  bool cgroupDriverSet = false;           // the file named one (else the runtime auto-detects)
  std::string cgroupRoot;                 // parent of the QoS tiers; empty: the runtime's
  bool cgroupsPerQOS = true;
  std::vector<std::string> clusterDNS;
  std::string clusterDomain;
  std::string resolvConf = "/etc/resolv.conf";
  bool serializeImagePulls = true;
  int64_t podPidsLimit = -1;
  std::string containerLogMaxSize = "10Mi";
  int32_t containerLogMaxFiles = 5;
  std::string podLogsDir = "/var/log/pods";
  // /healthz and /pods are served here (0 disables the server).
  int32_t healthzPort = 10248;
  std::string healthzBindAddress = "127.0.0.1";
  // Empty: berth's in-process runtime; else a CRI endpoint ("unix:///...").
  std::string containerRuntimeEndpoint;
  absl::Duration runtimeRequestTimeout = absl::Minutes(2);

  // Not in KubeletConfiguration (flags only).
  std::string nodeName;  // default: the hostname
  // CrashLoopBackOff: first delay and cap (the kubelet's are 10 s and 5 min).
  absl::Duration crashLoopBackOffBase = absl::Seconds(10);
  absl::Duration crashLoopBackOffMax = absl::Minutes(5);
  // Device plugins register on <devicePluginsDir>/kubelet.sock; a plugin that
  // went away keeps its devices (unhealthy) this long.
  std::string devicePluginsDir = "/var/lib/kubelet/device-plugins";
  absl::Duration devicePluginGracePeriod = absl::Minutes(5);
};

// Parses a KubeletConfiguration document (YAML or JSON) over the defaults.
// apiVersion must be kubelet.config.k8s.io/v1beta1 and kind
// KubeletConfiguration; unknown keys and bad values are errors naming the key
// and the value. Keys of KubeletConfiguration that berth does not act on are
// accepted and ignored (they are listed in kubelet_config.cc).
absl::StatusOr<KubeletConfig> ParseKubeletConfig(absl::string_view text);
absl::StatusOr<KubeletConfig> LoadKubeletConfig(const std::string& path);

// containerLogMaxSize in bytes (validated when parsed; 0 if it does not parse).
int64_t ContainerLogMaxSizeBytes(const KubeletConfig& config);

// The flags that override the file, by name without "--":
// pod-manifest-path, node-name (hostname-override), max-pods, sync-frequency,
// file-check-frequency, cluster-dns (comma-separated), cluster-domain,
// healthz-port, healthz-bind-address, pod-logs-dir, container-runtime-endpoint,
// runtime-request-timeout, serialize-image-pulls, pod-max-pids, resolv-conf,
// crash-loop-backoff-base, crash-loop-backoff-max, container-log-max-size,
// container-log-max-files, device-plugins-dir,
// device-plugin-grace-period.
bool IsKubeletFlag(absl::string_view name);
std::vector<std::string> KubeletFlagNames();
absl::Status ApplyKubeletFlags(const std::map<std::string, std::string>& flags, KubeletConfig* config);

// Go duration syntax ("1m0s", "20s", "500ms", "1h30m").
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

}  // namespace berth::agent
