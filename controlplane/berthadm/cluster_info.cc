#include "controlplane/berthadm/cluster_info.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"
#include "common/status_macros.h"
#include "controlplane/berthadm/ca_pin.h"
#include "controlplane/berthadm/cluster_info_jws.h"

namespace berth::berthadm {

std::string ClusterInfoKubeconfig(const std::string& server, const std::string& ca_pem) {
  nlohmann::json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", ""},
         {"cluster", {{"server", server}, {"certificate-authority-data", absl::Base64Escape(ca_pem)}}}}}},
      {"contexts", nlohmann::json::array()},
      {"users", nlohmann::json::array()},
      {"current-context", ""},
      {"preferences", nlohmann::json::object()}};
  return k8s::JsonToYaml(config);
}

nlohmann::json ClusterInfoConfigMap(const std::string& kubeconfig, const std::vector<BootstrapToken>& tokens) {
  nlohmann::json data = {{"kubeconfig", kubeconfig}};
  for (const auto& token : tokens) data[ClusterInfoSignatureKey(token.id)] = SignDetachedJws(kubeconfig, token);
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "cluster-info"}, {"namespace", "kube-public"}}},
          {"data", data}};
}

absl::StatusOr<DiscoveredCluster> DiscoverFromClusterInfo(const nlohmann::json& config_map,
                                                          const BootstrapToken& token,
                                                          const std::vector<std::string>& ca_pins,
                                                          bool unsafe_skip_ca_verification) {
  if (ca_pins.empty() && !unsafe_skip_ca_verification) {
    return absl::InvalidArgumentError(
        "no discovery-token-ca-cert-hash given: pin the CA (sha256:...) or explicitly skip CA verification");
  }
  const nlohmann::json* data = config_map.contains("data") ? &config_map["data"] : nullptr;
  if (data == nullptr || !data->is_object() || !data->contains("kubeconfig") || !(*data)["kubeconfig"].is_string()) {
    return absl::InvalidArgumentError("cluster-info: no data.kubeconfig");
  }
  const std::string kubeconfig = (*data)["kubeconfig"].get<std::string>();
  std::string key = ClusterInfoSignatureKey(token.id);
  if (!data->contains(key) || !(*data)[key].is_string()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cluster-info has no signature for token id \"", token.id,
        "\" (data.", key, "): the token is unknown to this cluster, expired, or not for signing"));
  }
  RETURN_IF_ERROR(VerifyDetachedJws((*data)[key].get<std::string>(), kubeconfig, token));
  auto docs = k8s::YamlToJson(kubeconfig);
  if (!docs.ok() || docs->size() != 1) return absl::InvalidArgumentError("cluster-info: data.kubeconfig is not YAML");
  const nlohmann::json& config = (*docs)[0];
  DiscoveredCluster out;
  std::string ca_b64;
  if (auto c = config.find("clusters"); c != config.end() && c->is_array() && c->size() == 1) {
    out.server = (*c)[0].value("/cluster/server"_json_pointer, "");
    ca_b64 = (*c)[0].value("/cluster/certificate-authority-data"_json_pointer, "");
  }
  if (out.server.empty()) return absl::InvalidArgumentError("cluster-info: the kubeconfig names no cluster server");
  if (!absl::Base64Unescape(ca_b64, &out.ca_pem) || out.ca_pem.empty()) {
    return absl::InvalidArgumentError("cluster-info: the kubeconfig has no certificate-authority-data");
  }
  if (!unsafe_skip_ca_verification) RETURN_IF_ERROR(VerifyCaPin(out.ca_pem, ca_pins));
  return out;
}

}  // namespace berth::berthadm
