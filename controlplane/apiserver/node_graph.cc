#include "controlplane/apiserver/node_graph.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

// Walks every object in `j`, calling `visit(key, value)` for each member.
template <typename F>
void Walk(const json& j, const F& visit) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      visit(it.key(), it.value());
      Walk(it.value(), visit);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) Walk(v, visit);
  }
}

bool NameIs(const json& ref, const std::string& name) {
  return ref.is_object() && ref.value("name", "") == name;
}

}  // namespace

bool PodReferences(const json& pod, const std::string& resource, const std::string& name) {
  const json& spec = pod.value("spec", json::object());
  if (resource == "serviceaccounts") return spec.value("serviceAccountName", "") == name;
  bool found = false;
  Walk(spec, [&](const std::string& key, const json& value) {
    if (found) return;
    if (resource == "secrets") {
      found = (key == "secret" && value.is_object() && (value.value("secretName", "") == name || NameIs(value, name))) ||
              ((key == "secretKeyRef" || key == "secretRef") && NameIs(value, name));
      if (key == "imagePullSecrets" && value.is_array()) {
        for (const auto& s : value) found = found || NameIs(s, name);
      }
    } else if (resource == "configmaps") {
      found = (key == "configMap" || key == "configMapKeyRef" || key == "configMapRef") && NameIs(value, name);
    } else if (resource == "persistentvolumeclaims") {
      found = key == "persistentVolumeClaim" && value.is_object() && value.value("claimName", "") == name;
    }
  });
  return found;
}

std::optional<std::string> StoreNodeGraph::PodNodeName(const std::string& ns, const std::string& name) {
  Result<json> pod = pods_->Get(ns, name);
  if (!pod.ok()) return std::nullopt;
  return pod->value("spec", json::object()).value("nodeName", "");
}

bool StoreNodeGraph::PodOnNodeReferences(const std::string& node, const std::string& resource,
                                         const std::string& ns, const std::string& name) {
  Result<json> pods = pods_->List(ns, ListQuery{});
  if (!pods.ok()) return false;
  for (const auto& pod : (*pods)["items"]) {
    if (pod.value("spec", json::object()).value("nodeName", "") != node) continue;
    if (PodReferences(pod, resource, name)) return true;
  }
  return false;
}

}  // namespace berth::apiserver
