#include "agent/agent_flags.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <climits>
#include <map>
#include <set>
#include <tuple>

#include "absl/time/time.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/config/kubelet_config.h"
#include "common/flags.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth {

const char kAgentUsage[] = R"(usage: berth-agent [flags]                 serve CRI until SIGTERM
       berth-agent images import ARCHIVE [flags]   import an OCI layout / docker-archive tar
       berth-agent images list [flags]
       berth-agent images pull REF [flags]        pull through the registry config
       berth-agent images rm REF [flags]          by id, tag or digest
       berth-agent images export REF... -o FILE   write an OCI image layout tar
       berth-agent images check [--repair]        audit the store (orphans, leftovers, digests)
       berth-agent images resolve REF [flags]     print the endpoints REF is tried at, in order

flags:
  --listen unix:///run/berth/berth.sock   CRI endpoint
  --state-dir /var/lib/berth              persistent state (sandboxes, containers, images)
  --run-dir /run/berth                    runtime state (pinned namespaces)
  --cgroup-driver auto|cgroupfs|systemd   auto picks systemd when it is PID 1
  --cgroup-root /sys/fs/cgroup
  --cgroup-parent /berth                  parent of pods without a linux.cgroup_parent
  --shim PATH                             berth-shim (default: next to berth-agent)
  --cni-conf-dir /etc/cni/net.d           CNI network configs (none valid: loopback-only pods)
  --cni-bin-dir /opt/cni/bin              CNI plugin dirs, comma-separated
  --cni-cache-dir DIR                     CNI attachment cache (default: <state-dir>/cni)
  --insecure-registry HOST[:PORT],...     registries pulled from over plain HTTP
  --streaming-address 127.0.0.1:0         exec/port-forward streaming server (port 0: any free)
  --cdi-spec-dirs /etc/cdi,/var/run/cdi    CDI spec dirs, comma-separated (later ones override)
  --registry-config /etc/berth/registries.yaml   mirrors, auth, CA files, insecure hosts
  --max-concurrent-downloads 3            layers fetched at once per pull
  --image-gc-high-threshold 85            image GC starts above this % of disk used
  --image-gc-low-threshold 80             and removes unused images, LRU first, until under this
  --image-pull-progress-deadline 1m       cancel a pull that receives nothing for this long
  --image-import-dir DIR                  archives placed here are imported (default:
                                          <state-dir>/images/import; empty: off)
  --log-level debug|info|warning|error

kubelet (static pods; see agent/config/README.md):
  --config FILE                           KubeletConfiguration (kubelet.config.k8s.io/v1beta1)
  --pod-manifest-path /etc/kubernetes/manifests   --node-name NAME (default: hostname)
  --max-pods 110  --sync-frequency 1m  --file-check-frequency 20s  --cluster-dns IP,...
  --cluster-domain D  --healthz-port 10248  --healthz-bind-address 127.0.0.1
  --pod-logs-dir /var/log/pods  --container-runtime-endpoint unix:///...  (default: in-process)
  --crash-loop-backoff-base 10s  --crash-loop-backoff-max 5m
  --device-plugins-dir /var/lib/kubelet/device-plugins  --device-plugin-grace-period 5m

cluster member (agent/cluster/README.md):
  --kubeconfig FILE                       register the Node, renew its Lease, run the pods bound to it
  --node-ip IP                            the Node's InternalIP (default: the first global IPv4)
)";

std::string DefaultShimPath() {
  char buf[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    std::string self(buf, n);
    std::string dir = self.substr(0, self.rfind('/'));
    for (const char* candidate : {"/berth-shim", "/../runtime-shim/shim/berth-shim"}) {
      std::string path = dir + candidate;
      if (access(path.c_str(), X_OK) == 0) return CleanPath(path);
    }
  }
  return "berth-shim";
}

absl::StatusOr<AgentFlags> ParseAgentFlags(int argc, char** argv) {
  AgentFlags flags;
  flags.runtime.shim_path = DefaultShimPath();
  std::map<std::string, std::string*> strings = {
      {"listen", &flags.listen},
      {"state-dir", &flags.runtime.state_dir},
      {"run-dir", &flags.runtime.run_dir},
      {"cgroup-driver", &flags.runtime.cgroups.driver},
      {"cgroup-root", &flags.runtime.cgroups.root},
      {"cgroup-parent", &flags.runtime.cgroup_parent},
      {"shim", &flags.runtime.shim_path},
      {"log-level", &flags.log_level},
      {"cni-conf-dir", &flags.runtime.cni_conf_dir},
      {"cni-cache-dir", &flags.runtime.cni_cache_dir},
      {"streaming-address", &flags.runtime.streaming_address},
      {"kubeconfig", &flags.kubeconfig},
      {"node-ip", &flags.node_ip},
  };
  std::string cni_bin_dirs, insecure_registries, max_downloads, import_dir = "\x01unset";
  strings["cni-bin-dir"] = &cni_bin_dirs;
  std::string cdi_spec_dirs = "\x01unset";
  strings["cdi-spec-dirs"] = &cdi_spec_dirs;
  strings["insecure-registry"] = &insecure_registries;
  strings["registry-config"] = &flags.registry_config;
  strings["max-concurrent-downloads"] = &max_downloads;
  strings["image-import-dir"] = &import_dir;
  std::string gc_high, gc_low;
  strings["image-gc-high-threshold"] = &gc_high;
  strings["image-gc-low-threshold"] = &gc_low;
  std::string pull_deadline;
  strings["image-pull-progress-deadline"] = &pull_deadline;
  // The kubelet's flags, kept as given and applied over --config by agent/config.
  const std::string kNotGiven = "\x01unset";
  std::map<std::string, std::string> kubelet_values;
  for (const auto& name : agent::KubeletFlagNames()) strings[name] = &(kubelet_values[name] = kNotGiven);
  strings["config"] = &flags.config_file;
  bool help = false;
  std::set<std::string> given;
  RETURN_IF_ERROR(ParseFlags(argc, argv,
                             FlagSet{.values = strings,
                                     .switches = {{"help", &help}, {"repair", &flags.repair}},
                                     .positional = &flags.positional,
                                     .given = &given}));
  if (help) return absl::InvalidArgumentError(kAgentUsage);
  flags.registry_config_set = given.contains("registry-config");
  if (cdi_spec_dirs != "\x01unset") {
    flags.runtime.cdi_spec_dirs = absl::StrSplit(cdi_spec_dirs, ',', absl::SkipEmpty());
    for (const auto& dir : flags.runtime.cdi_spec_dirs) {
      if (dir.empty() || dir[0] != '/') {
        return absl::InvalidArgumentError(absl::StrCat("--cdi-spec-dirs: \"", dir, "\" is not an absolute path"));
      }
    }
  }
  if (!cni_bin_dirs.empty()) {
    flags.runtime.cni_bin_dirs = absl::StrSplit(cni_bin_dirs, ',', absl::SkipEmpty());
  }
  if (!insecure_registries.empty()) {
    flags.runtime.insecure_registries = absl::StrSplit(insecure_registries, ',', absl::SkipEmpty());
  }
  if (!max_downloads.empty()) {
    int n = 0;
    if (!absl::SimpleAtoi(max_downloads, &n) || n < 1 || n > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat("--max-concurrent-downloads: \"", max_downloads, "\" is not a number from 1 to 64"));
    }
    flags.runtime.max_concurrent_downloads = n;
  }
  for (auto [flag, text, out] : {std::tuple{"image-gc-high-threshold", &gc_high, &flags.runtime.image_gc.high_threshold_percent},
                                 std::tuple{"image-gc-low-threshold", &gc_low, &flags.runtime.image_gc.low_threshold_percent}}) {
    if (text->empty()) continue;
    if (!absl::SimpleAtoi(*text, out) || *out < 0 || *out > 100) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", *text, "\" is not a percent from 0 to 100"));
    }
  }
  if (!pull_deadline.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(pull_deadline, &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("--image-pull-progress-deadline: \"", pull_deadline,
                                                     "\" is not a positive duration like 1m or 30s"));
    }
    flags.runtime.image_pull_progress_deadline = d;
  }
  if (absl::Status gc = image::ValidateImageGcPolicy(flags.runtime.image_gc); !gc.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", gc.message()));
  }
  flags.image_import_dir = import_dir == "\x01unset" ? flags.runtime.state_dir + "/images/import" : import_dir;
  if (!flags.image_import_dir.empty() && flags.image_import_dir[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("--image-import-dir: \"", flags.image_import_dir, "\" must be an absolute path"));
  }
  for (const auto& [name, value] : kubelet_values) {
    if (value != kNotGiven) flags.kubelet_flags[name] = value;
  }
  if (in6_addr addr; !flags.node_ip.empty() && inet_pton(AF_INET, flags.node_ip.c_str(), &addr) != 1 &&
                     inet_pton(AF_INET6, flags.node_ip.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--node-ip: \"", flags.node_ip, "\" is not an IP address"));
  }
  const std::string& driver = flags.runtime.cgroups.driver;
  if (driver != "auto" && driver != "cgroupfs" && driver != "systemd") {
    return absl::InvalidArgumentError(
        absl::StrCat("--cgroup-driver: \"", driver, "\" is not auto, cgroupfs or systemd"));
  }
  if (flags.runtime.cgroup_parent.empty() || flags.runtime.cgroup_parent[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("--cgroup-parent: \"", flags.runtime.cgroup_parent, "\" must start with /"));
  }
  return flags;
}

}  // namespace berth
