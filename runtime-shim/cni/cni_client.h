// The runtime's CNI client: ADD / DEL / CHECK / STATUS / GC for a pod's
// network attachment over the configured plugin chain.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/cni/attachment_cache.h"
#include "runtime-shim/cni/cni_result.h"
#include "runtime-shim/cni/config_watcher.h"
#include "runtime-shim/cni/network_config.h"
#include "runtime-shim/cni/plugin_exec.h"

namespace berth::cni {

struct PortMapping {
  int container_port = 0;
  int host_port = 0;
  std::string protocol = "tcp";  // tcp, udp, sctp
  std::string host_ip;
};

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

// Rates in bits per second, bursts in bits (the bandwidth capability).
struct Bandwidth {
  int64_t ingress_rate = 0;
  int64_t ingress_burst = 0;
  int64_t egress_rate = 0;
  int64_t egress_burst = 0;
};

struct AttachmentRequest {
  std::string container_id;  // the sandbox id
  std::string netns;         // path of the pinned net namespace
  std::string ifname = "eth0";
  std::string pod_namespace;          // K8S_POD_NAMESPACE
  std::string pod_name;               // K8S_POD_NAME
  std::string pod_infra_container_id; // K8S_POD_INFRA_CONTAINER_ID (the sandbox id when empty)
  std::string pod_uid;                // K8S_POD_UID
  std::vector<PortMapping> port_mappings;
  DnsConfig dns;
  std::optional<Bandwidth> bandwidth;
};

struct CniClientOptions {
  std::string conf_dir = kDefaultConfDir;
  std::vector<std::string> bin_dirs = {kDefaultBinDir};
  std::string cache_dir = "/var/lib/berth/cni/cache";
  absl::Duration plugin_timeout = absl::Seconds(60);  // per plugin call
  // Keep the config loaded and re-read it when the conf dir changes
  // (inotify, see config_watcher.h) instead of reading it on every call.
  // The runtime sets this; when the watch cannot be set up, every call reads.
  bool watch_conf_dir = false;
};

// CNI_ARGS for a request: IgnoreUnknown=1 and the K8S_POD_* values.
std::vector<std::pair<std::string, std::string>> CniArgsFor(const AttachmentRequest& request);

// The runtimeConfig values a request can fill: portMappings (when any),
// dns (when any server/search/option), bandwidth (when set).
nlohmann::json CapabilityArgsFor(const AttachmentRequest& request);

// Thread-compatible: the caller serializes calls for the same attachment
// (the runtime does, per sandbox). The config is re-read on every call (or,
// with watch_conf_dir, whenever the dir changes), so a changed conf dir takes
// effect for the next ADD; DEL and CHECK use the config cached with the
// attachment.
class CniClient {
 public:
  explicit CniClient(CniClientOptions options);
  ~CniClient();
  CniClient(const CniClient&) = delete;
  CniClient& operator=(const CniClient&) = delete;

  const CniClientOptions& options() const { return options_; }

  // OK with a valid config in the conf dir; FailedPrecondition with the reason.
  absl::Status NetworkReady() const;

  // Container ids must be [A-Za-z0-9][A-Za-z0-9_.-]* and ifname a Linux
  // interface name (InvalidArgument otherwise): both name the cache file.
  //
  // ADD for the chain, prevResult passed along; on a failure midway runs DEL
  // for the chain (reverse) and returns the ADD error. Caches the result.
  absl::StatusOr<CniResult> Add(const AttachmentRequest& request);

  // DEL with the cached config and result, plugins in reverse; idempotent: no
  // cache falls back to the current config, a missing netns is passed as an
  // empty CNI_NETNS, a missing plugin is logged and skipped. Removes the cache.
  absl::Status Del(const AttachmentRequest& request);

  // CHECK with the cached result (cniVersion 0.4.0 and later; Unimplemented
  // before, FailedPrecondition when nothing is cached).
  absl::Status Check(const AttachmentRequest& request);

  // STATUS for every plugin when the config's cniVersion is 1.1.0 or later;
  // else the config's validity and that every plugin binary is present.
  absl::Status Status();

  // DEL for every cached attachment whose container id is not in
  // `valid_container_ids`; then, for a cniVersion 1.1.0 config, the plugins'
  // GC with "cni.dev/valid-attachments" (the attachments still cached).
  // Returns the first error after trying them all.
  absl::Status GarbageCollect(const absl::flat_hash_set<std::string>& valid_container_ids);

  // The cached result of an attachment, for PodSandboxStatus after a restart.
  absl::StatusOr<CniResult> CachedResult(const AttachmentRequest& request) const;

 private:
  absl::Status DelChain(const NetworkConfigList& list, const CachedAttachment& attachment,
                        size_t plugin_count);
  std::vector<std::pair<std::string, CachedAttachment>> FindCached(const std::string& container_id,
                                                                   const std::string& ifname) const;

  // The current network config: the watcher's, else read from the dir now.
  absl::StatusOr<NetworkConfigList> LoadConfig() const;

  CniClientOptions options_;
  std::unique_ptr<NetworkConfigWatcher> watcher_;  // with watch_conf_dir
};

}  // namespace berth::cni
