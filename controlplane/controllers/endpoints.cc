#include "controlplane/controllers/endpoints.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace berth::controllers {
namespace {

using nlohmann::json;

const json& Field(const json& j, const char* key) {
  static const json kNull;
  return j.is_object() && j.contains(key) ? j[key] : kNull;
}

bool Matches(const json& selector, const json& labels) {
  for (const auto& [k, v] : selector.items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

bool PodReady(const json& pod) {
  for (const auto& c : Field(Field(pod, "status"), "conditions")) {
    if (Field(c, "type") == "Ready") return Field(c, "status") == "True";
  }
  return false;
}

struct ResolvedPort {
  std::string name;
  int port = 0;
  std::string protocol;
  bool operator<(const ResolvedPort& o) const {
    return std::tie(name, port, protocol) < std::tie(o.name, o.port, o.protocol);
  }
};

// The Service's ports with targetPort resolved against `pod`; a named port
// the pod does not have leaves that port out (kube does the same).
absl::StatusOr<std::vector<ResolvedPort>> ResolvePorts(const json& service, const json& pod) {
  std::vector<ResolvedPort> out;
  const json& ports = Field(Field(service, "spec"), "ports");
  for (size_t i = 0; i < ports.size(); ++i) {
    const json& p = ports[i];
    std::string field = absl::StrCat("spec.ports[", i, "]");
    if (!Field(p, "port").is_number_integer()) return absl::InvalidArgumentError(field + ".port: not an integer");
    ResolvedPort r{Field(p, "name").is_string() ? p["name"].get<std::string>() : "", p["port"].get<int>(),
                   Field(p, "protocol").is_string() ? p["protocol"].get<std::string>() : "TCP"};
    const json& target = Field(p, "targetPort");
    if (target.is_number_integer()) {
      r.port = target.get<int>();
    } else if (target.is_string()) {
      bool found = false;
      for (const auto& c : Field(Field(pod, "spec"), "containers")) {
        for (const auto& cp : Field(c, "ports")) {
          std::string protocol = Field(cp, "protocol").is_string() ? cp["protocol"].get<std::string>() : "TCP";
          if (Field(cp, "name") == target && protocol == r.protocol && Field(cp, "containerPort").is_number_integer()) {
            r.port = cp["containerPort"].get<int>();
            found = true;
          }
        }
      }
      if (!found) continue;
    } else if (!target.is_null()) {
      return absl::InvalidArgumentError(field + ".targetPort: neither a number nor a name");
    }
    out.push_back(r);
  }
  return out;
}

struct PodEndpoint {
  const json* pod;
  std::string ip;
  bool ready;
  bool terminating;
  std::vector<ResolvedPort> ports;
};

absl::StatusOr<std::vector<PodEndpoint>> SelectPods(const json& service, const std::vector<json>& pods) {
  std::vector<PodEndpoint> out;
  const json& selector = Field(Field(service, "spec"), "selector");
  std::string ns = Field(Field(service, "metadata"), "namespace").is_string()
                       ? service["metadata"]["namespace"].get<std::string>()
                       : "default";
  bool publish_not_ready = Field(Field(service, "spec"), "publishNotReadyAddresses") == true;
  for (const auto& pod : pods) {
    const json& meta = Field(pod, "metadata");
    std::string pod_ns = Field(meta, "namespace").is_string() ? meta["namespace"].get<std::string>() : "default";
    if (pod_ns != ns || !Matches(selector, Field(meta, "labels"))) continue;
    const json& status = Field(pod, "status");
    std::string phase = Field(status, "phase").is_string() ? status["phase"].get<std::string>() : "";
    if (phase == "Succeeded" || phase == "Failed") continue;
    if (!Field(status, "podIP").is_string() || status["podIP"].get<std::string>().empty()) continue;
    auto ports = ResolvePorts(service, pod);
    if (!ports.ok()) return ports.status();
    out.push_back({&pod, status["podIP"].get<std::string>(), publish_not_ready || PodReady(pod),
                   !Field(meta, "deletionTimestamp").is_null(), std::move(*ports)});
  }
  return out;
}

json TargetRef(const json& pod) {
  const json& meta = pod["metadata"];
  json ref = {{"kind", "Pod"}, {"name", Field(meta, "name")}, {"namespace", Field(meta, "namespace")}};
  if (meta.contains("uid")) ref["uid"] = meta["uid"];
  return ref;
}

json Address(const PodEndpoint& e) {
  json a = {{"ip", e.ip}, {"targetRef", TargetRef(*e.pod)}};
  const json& node = Field(Field(*e.pod, "spec"), "nodeName");
  if (node.is_string() && !node.get<std::string>().empty()) a["nodeName"] = node;
  return a;
}

json PortsJson(const std::vector<ResolvedPort>& ports) {
  json out = json::array();
  for (const auto& p : ports) {
    json j = {{"port", p.port}, {"protocol", p.protocol}};
    if (!p.name.empty()) j["name"] = p.name;
    out.push_back(j);
  }
  return out;
}

json ObjectMetaFor(const json& service, const std::string& name) {
  const json& meta = service["metadata"];
  return {{"name", name}, {"namespace", Field(meta, "namespace").is_string() ? meta["namespace"] : json("default")}};
}

}  // namespace

bool ServiceHasSelector(const json& service) {
  const json& selector = Field(Field(service, "spec"), "selector");
  return selector.is_object() && !selector.empty();
}

absl::StatusOr<json> EndpointsFor(const json& service, const std::vector<json>& pods) {
  if (!Field(Field(service, "metadata"), "name").is_string()) return absl::InvalidArgumentError("metadata.name: missing");
  auto selected = SelectPods(service, pods);
  if (!selected.ok()) return selected.status();
  // One subset per distinct resolved port set, as kube's repacking does.
  std::map<std::vector<ResolvedPort>, json> subsets;
  for (const auto& e : *selected) {
    if (e.terminating || e.ports.empty()) continue;
    json& subset = subsets[e.ports];
    if (subset.is_null()) subset = {{"ports", PortsJson(e.ports)}};
    subset[e.ready ? "addresses" : "notReadyAddresses"].push_back(Address(e));
  }
  json out = {{"apiVersion", "v1"},
              {"kind", "Endpoints"},
              {"metadata", ObjectMetaFor(service, service["metadata"]["name"].get<std::string>())},
              {"subsets", json::array()}};
  for (auto& [ports, subset] : subsets) out["subsets"].push_back(std::move(subset));
  return out;
}

absl::StatusOr<std::vector<json>> EndpointSlicesFor(const json& service, const std::vector<json>& pods,
                                                    size_t max_per_slice) {
  if (!Field(Field(service, "metadata"), "name").is_string()) return absl::InvalidArgumentError("metadata.name: missing");
  std::string name = service["metadata"]["name"].get<std::string>();
  auto selected = SelectPods(service, pods);
  if (!selected.ok()) return selected.status();
  std::map<std::vector<ResolvedPort>, std::vector<const PodEndpoint*>> by_ports;
  for (const auto& e : *selected) by_ports[e.ports].push_back(&e);
  std::vector<json> slices;
  for (const auto& [ports, endpoints] : by_ports) {
    for (size_t start = 0; start < endpoints.size(); start += max_per_slice) {
      json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                    {"kind", "EndpointSlice"},
                    {"metadata", ObjectMetaFor(service, absl::StrCat(name, "-", slices.size()))},
                    {"addressType", "IPv4"},
                    {"ports", PortsJson(ports)},
                    {"endpoints", json::array()}};
      slice["metadata"]["labels"] = {{"kubernetes.io/service-name", name},
                                     {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}};
      for (size_t i = start; i < std::min(endpoints.size(), start + max_per_slice); ++i) {
        const PodEndpoint& e = *endpoints[i];
        json ep = {{"addresses", {e.ip}},
                   {"conditions", {{"ready", e.ready && !e.terminating}, {"serving", e.ready}, {"terminating", e.terminating}}},
                   {"targetRef", TargetRef(*e.pod)}};
        const json& node = Field(Field(*e.pod, "spec"), "nodeName");
        if (node.is_string() && !node.get<std::string>().empty()) ep["nodeName"] = node;
        slice["endpoints"].push_back(ep);
      }
      slices.push_back(std::move(slice));
    }
  }
  return slices;
}

}  // namespace berth::controllers
