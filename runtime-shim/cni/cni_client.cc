#include "runtime-shim/cni/cni_client.h"

#include <sys/statfs.h>
#include <unistd.h>

#include <cctype>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::cni {
namespace {

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

// CNI_NETNS for DEL: the path while it is a namespace, and also once it is
// gone altogether (the runtime releases the namespace before DEL): plugins
// treat a path that does not exist as a released namespace whose links went
// with it (the reference plugins' NSPathNotExistErr), and release IPAM and
// rules. Empty when something else sits at the path (say, the pin's file
// left after an unmount), which a plugin would fail to open as a namespace.
std::string NetnsIfPresent(const std::string& netns) {
  struct statfs fs {};
  if (netns.empty()) return std::string();
  if (statfs(netns.c_str(), &fs) < 0) return errno == ENOENT ? netns : std::string();
  return static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC ? netns : std::string();
}

absl::Status RemoveCacheFile(const std::string& path) {
  if (unlink(path.c_str()) < 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("remove CNI cache ", path));
  }
  return absl::OkStatus();
}

// The spec's container id (alphanumerics, then also '_', '.', '-') and a
// Linux interface name; both become part of the cache file name.
absl::Status ValidateIds(absl::string_view command, const AttachmentRequest& request) {
  const std::string& id = request.container_id;
  bool id_ok = !id.empty() && std::isalnum(static_cast<unsigned char>(id[0]));
  for (char c : id) {
    id_ok = id_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!id_ok) {
    return absl::InvalidArgumentError(absl::StrCat("CNI ", command, ": container_id \"", id,
                                                   "\" is not [A-Za-z0-9][A-Za-z0-9_.-]*"));
  }
  const std::string& ifname = request.ifname;
  bool if_ok = !ifname.empty() && ifname.size() < 16 && ifname != "." && ifname != "..";
  for (char c : ifname) {
    if_ok = if_ok && c != '/' && c != ':' && !std::isspace(static_cast<unsigned char>(c));
  }
  if (!if_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("CNI ", command, ": ifname \"", ifname, "\" is not an interface name"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CniArgsFor(const AttachmentRequest& request) {
  return {
      {"IgnoreUnknown", "1"},
      {"K8S_POD_NAMESPACE", request.pod_namespace},
      {"K8S_POD_NAME", request.pod_name},
      {"K8S_POD_INFRA_CONTAINER_ID",
       request.pod_infra_container_id.empty() ? request.container_id : request.pod_infra_container_id},
      {"K8S_POD_UID", request.pod_uid},
  };
}

nlohmann::json CapabilityArgsFor(const AttachmentRequest& request) {
  nlohmann::json args = nlohmann::json::object();
  if (!request.port_mappings.empty()) {
    nlohmann::json mappings = nlohmann::json::array();
    for (const auto& m : request.port_mappings) {
      nlohmann::json entry = {{"hostPort", m.host_port},
                              {"containerPort", m.container_port},
                              {"protocol", m.protocol.empty() ? "tcp" : m.protocol}};
      if (!m.host_ip.empty()) entry["hostIP"] = m.host_ip;
      mappings.push_back(entry);
    }
    args["portMappings"] = mappings;
  }
  const DnsConfig& dns = request.dns;
  if (!dns.servers.empty() || !dns.searches.empty() || !dns.options.empty()) {
    args["dns"] = {{"servers", dns.servers}, {"searches", dns.searches}, {"options", dns.options}};
  }
  if (request.bandwidth) {
    const Bandwidth& b = *request.bandwidth;
    args["bandwidth"] = {{"ingressRate", b.ingress_rate}, {"ingressBurst", b.ingress_burst},
                         {"egressRate", b.egress_rate}, {"egressBurst", b.egress_burst}};
  }
  return args;
}

CniClient::CniClient(CniClientOptions options) : options_(std::move(options)) {
  if (options_.watch_conf_dir) {
    auto watcher = NetworkConfigWatcher::Start(options_.conf_dir);
    if (watcher.ok()) {
      watcher_ = *std::move(watcher);
    } else {
      BERTH_LOG(Warning) << "CNI conf dir not watched; reading it on every call"
                         << Kv("error", watcher.status().ToString());
    }
  }
}

CniClient::~CniClient() = default;

absl::StatusOr<NetworkConfigList> CniClient::LoadConfig() const {
  if (watcher_) {
    // A usable config is taken from the watcher. Without one the dir is read
    // now, so a config dropped in a moment ago counts even before the
    // watcher's thread has seen it (there are no pods with networking to
    // slow down in that state anyway).
    auto current = watcher_->Current();
    if (current.ok()) return current;
  }
  return LoadNetworkConfig(options_.conf_dir);
}

absl::Status CniClient::NetworkReady() const {
  auto list = LoadConfig();
  if (list.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("NetworkPluginNotReady: ", list.status().message()));
}

absl::StatusOr<CniResult> CniClient::Add(const AttachmentRequest& request) {
  RETURN_IF_ERROR(ValidateIds("ADD", request));
  if (request.netns.empty()) return absl::InvalidArgumentError("CNI ADD: netns is empty");
  if (!PathExists(request.netns)) {
    return absl::NotFoundError(absl::StrCat("CNI ADD: netns ", request.netns, " does not exist"));
  }
  ASSIGN_OR_RETURN(NetworkConfigList list, LoadConfig());
  // Every binary first, so a missing plugin fails before anything is set up.
  std::vector<std::string> paths;
  for (const auto& plugin : list.plugins) {
    auto path = FindPlugin(plugin.type, options_.bin_dirs);
    if (!path.ok()) return Annotate(path.status(), absl::StrCat("network ", list.name, " (", list.source, ")"));
    paths.push_back(*path);
  }
  CachedAttachment attachment;
  attachment.network_name = list.name;
  attachment.container_id = request.container_id;
  attachment.ifname = request.ifname;
  attachment.netns = request.netns;
  attachment.args = CniArgsFor(request);
  attachment.capability_args = CapabilityArgsFor(request);
  attachment.config = list.raw;

  PluginEnv env{"ADD", request.container_id, request.netns, request.ifname, attachment.args,
                options_.bin_dirs};
  nlohmann::json prev_result;
  for (size_t i = 0; i < list.plugins.size(); ++i) {
    const PluginConfig& plugin = list.plugins[i];
    nlohmann::json input = BuildPluginStdin(list, plugin, prev_result, attachment.capability_args);
    auto output = InvokePlugin(paths[i], plugin.type, env, input, options_.plugin_timeout);
    absl::Status status = output.status();
    if (status.ok() && !output->is_object()) {
      status = absl::InternalError(
          absl::StrCat("CNI plugin ", plugin.type, " ADD: printed no result"));
    }
    if (status.ok()) status = ParseCniResult(*output, plugin.type).status();
    if (!status.ok()) {
      // Undo what the chain set up so far, the failed plugin included
      // (plugins must tolerate DEL of what they never made).
      attachment.result = prev_result;
      absl::Status undo = DelChain(list, attachment, i + 1);
      if (!undo.ok()) {
        BERTH_LOG(Warning) << "CNI DEL after a failed ADD" << Kv("container", request.container_id)
                           << Kv("error", undo.ToString());
      }
      return Annotate(status, absl::StrCat("network ", list.name));
    }
    prev_result = *output;
  }
  ASSIGN_OR_RETURN(CniResult result, ParseCniResult(prev_result, list.plugins.back().type));
  attachment.result = prev_result;
  absl::Status cached = WriteCachedAttachment(options_.cache_dir, attachment);
  if (!cached.ok()) {
    DelChain(list, attachment, list.plugins.size()).IgnoreError();
    return Annotate(cached, absl::StrCat("network ", list.name, ": cache the ADD result"));
  }
  return result;
}

absl::Status CniClient::DelChain(const NetworkConfigList& list, const CachedAttachment& attachment,
                                 size_t plugin_count) {
  PluginEnv env{"DEL", attachment.container_id, NetnsIfPresent(attachment.netns), attachment.ifname,
                attachment.args, options_.bin_dirs};
  // prevResult on DEL exists from 0.4.0 on.
  nlohmann::json prev_result;
  if (CompareCniVersions(list.cni_version, "0.4.0") >= 0) prev_result = attachment.result;
  absl::Status first_error;
  for (size_t i = plugin_count; i-- > 0;) {
    const PluginConfig& plugin = list.plugins[i];
    auto path = FindPlugin(plugin.type, options_.bin_dirs);
    if (!path.ok()) {
      BERTH_LOG(Warning) << "CNI DEL: skipping missing plugin" << Kv("plugin", plugin.type)
                         << Kv("container", attachment.container_id);
      continue;
    }
    nlohmann::json input = BuildPluginStdin(list, plugin, prev_result, attachment.capability_args);
    auto output = InvokePlugin(*path, plugin.type, env, input, options_.plugin_timeout);
    if (!output.ok()) {
      BERTH_LOG(Warning) << "CNI DEL failed" << Kv("plugin", plugin.type)
                         << Kv("container", attachment.container_id)
                         << Kv("error", output.status().ToString());
      if (first_error.ok()) first_error = Annotate(output.status(), absl::StrCat("network ", list.name));
    }
  }
  return first_error;
}

std::vector<std::pair<std::string, CachedAttachment>> CniClient::FindCached(
    const std::string& container_id, const std::string& ifname) const {
  std::vector<std::pair<std::string, CachedAttachment>> out;
  for (auto& entry : ListCachedAttachments(options_.cache_dir)) {
    if (entry.second.container_id == container_id && entry.second.ifname == ifname) {
      out.push_back(std::move(entry));
    }
  }
  return out;
}

absl::Status CniClient::Del(const AttachmentRequest& request) {
  RETURN_IF_ERROR(ValidateIds("DEL", request));
  auto cached = FindCached(request.container_id, request.ifname);
  if (cached.empty()) {
    // Nothing cached (ADD never finished, or an older runtime): DEL with the
    // current config, so plugins can release what they may hold.
    auto list = LoadConfig();
    if (!list.ok()) {
      BERTH_LOG(Info) << "CNI DEL: no cached attachment and no config; nothing to do"
                      << Kv("container", request.container_id)
                      << Kv("reason", list.status().ToString());
      return absl::OkStatus();
    }
    CachedAttachment attachment;
    attachment.network_name = list->name;
    attachment.container_id = request.container_id;
    attachment.ifname = request.ifname;
    attachment.netns = request.netns;
    attachment.args = CniArgsFor(request);
    attachment.capability_args = CapabilityArgsFor(request);
    return DelChain(*list, attachment, list->plugins.size());
  }
  absl::Status first_error;
  for (auto& [path, attachment] : cached) {
    if (!request.netns.empty()) attachment.netns = request.netns;
    auto list = NetworkConfigFromJson(attachment.config, path);
    absl::Status status;
    if (!list.ok()) {
      status = list.status();
    } else {
      status = DelChain(*list, attachment, list->plugins.size());
    }
    if (status.ok()) {
      status = RemoveCacheFile(path);
    }
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  return first_error;
}

absl::StatusOr<CniResult> CniClient::CachedResult(const AttachmentRequest& request) const {
  auto cached = FindCached(request.container_id, request.ifname);
  if (cached.empty()) {
    return absl::NotFoundError(absl::StrCat("no cached CNI attachment for ", request.container_id,
                                            " ", request.ifname));
  }
  return ParseCniResult(cached.front().second.result, cached.front().first);
}

absl::Status CniClient::Check(const AttachmentRequest& request) {
  RETURN_IF_ERROR(ValidateIds("CHECK", request));
  auto cached = FindCached(request.container_id, request.ifname);
  if (cached.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CNI CHECK: no cached attachment for ", request.container_id, " ", request.ifname));
  }
  const auto& [cache_path, attachment] = cached.front();
  ASSIGN_OR_RETURN(NetworkConfigList list, NetworkConfigFromJson(attachment.config, cache_path));
  if (CompareCniVersions(list.cni_version, "0.4.0") < 0) {
    return absl::UnimplementedError(absl::StrCat("CNI CHECK: network ", list.name, " cniVersion ",
                                                 list.cni_version, " has no CHECK (0.4.0 and later)"));
  }
  if (list.disable_check) return absl::OkStatus();
  PluginEnv env{"CHECK", attachment.container_id,
                request.netns.empty() ? attachment.netns : request.netns, attachment.ifname,
                attachment.args, options_.bin_dirs};
  for (const auto& plugin : list.plugins) {
    ASSIGN_OR_RETURN(std::string path, FindPlugin(plugin.type, options_.bin_dirs));
    nlohmann::json input = BuildPluginStdin(list, plugin, attachment.result, attachment.capability_args);
    auto output = InvokePlugin(path, plugin.type, env, input, options_.plugin_timeout);
    if (!output.ok()) return Annotate(output.status(), absl::StrCat("network ", list.name));
  }
  return absl::OkStatus();
}

absl::Status CniClient::Status() {
  auto list = LoadConfig();
  if (!list.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("NetworkPluginNotReady: ", list.status().message()));
  }
  bool has_status = CompareCniVersions(list->cni_version, "1.1.0") >= 0;
  PluginEnv env{"STATUS", "", "", "", {}, options_.bin_dirs};
  for (const auto& plugin : list->plugins) {
    auto path = FindPlugin(plugin.type, options_.bin_dirs);
    if (!path.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("NetworkPluginNotReady: network ", list->name, ": ", path.status().message()));
    }
    if (!has_status) continue;
    nlohmann::json input = BuildPluginStdin(*list, plugin, nlohmann::json(), nlohmann::json::object());
    auto output = InvokePlugin(*path, plugin.type, env, input, options_.plugin_timeout);
    if (!output.ok()) {
      return absl::Status(output.status().code() == absl::StatusCode::kUnavailable
                              ? absl::StatusCode::kUnavailable
                              : absl::StatusCode::kFailedPrecondition,
                          absl::StrCat("NetworkPluginNotReady: network ", list->name, ": ",
                                       output.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CniClient::GarbageCollect(const absl::flat_hash_set<std::string>& valid_container_ids) {
  absl::Status first_error;
  for (auto& [path, attachment] : ListCachedAttachments(options_.cache_dir)) {
    if (valid_container_ids.contains(attachment.container_id)) continue;
    BERTH_LOG(Info) << "CNI GC: removing stale attachment" << Kv("container", attachment.container_id)
                    << Kv("network", attachment.network_name);
    auto list = NetworkConfigFromJson(attachment.config, path);
    absl::Status status = list.ok() ? DelChain(*list, attachment, list->plugins.size()) : list.status();
    if (status.ok()) status = RemoveCacheFile(path);
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  // CNI 1.1: the plugins of the current network may clean up what they hold
  // for attachments the runtime no longer knows (leaked IPs, rules).
  auto list = LoadConfig();
  if (list.ok() && CompareCniVersions(list->cni_version, "1.1.0") >= 0) {
    nlohmann::json valid = nlohmann::json::array();
    for (const auto& [path, attachment] : ListCachedAttachments(options_.cache_dir)) {
      if (attachment.network_name != list->name) continue;
      valid.push_back({{"containerID", attachment.container_id}, {"ifname", attachment.ifname}});
    }
    PluginEnv env{"GC", "", "", "", {}, options_.bin_dirs};
    for (const auto& plugin : list->plugins) {
      auto path = FindPlugin(plugin.type, options_.bin_dirs);
      if (!path.ok()) {
        if (first_error.ok()) first_error = path.status();
        continue;
      }
      nlohmann::json input = BuildPluginStdin(*list, plugin, nlohmann::json(), nlohmann::json::object());
      input["cni.dev/valid-attachments"] = valid;
      auto output = InvokePlugin(*path, plugin.type, env, input, options_.plugin_timeout);
      if (!output.ok() && first_error.ok()) {
        first_error = Annotate(output.status(), absl::StrCat("network ", list->name));
      }
    }
  }
  return first_error;
}

}  // namespace berth::cni
