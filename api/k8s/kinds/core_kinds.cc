// core/v1 kinds other than Pod: defaults, validation, Table columns and
// selectable fields, as kube-apiserver has them.
#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/k8s/kinds/kind_builders.h"
#include "api/k8s/kinds/table_cells.h"
#include "api/k8s/validation.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;

std::string BoolText(const json& v) { return v.is_boolean() && v.get<bool>() ? "true" : "false"; }

// ---- ConfigMap / Secret keys ----

constexpr char kConfigKeyMsg[] =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

void ValidateDataKeys(const json& obj, std::initializer_list<const char*> maps, std::vector<FieldError>& errs) {
  std::set<std::string> seen;
  size_t total = 0;
  for (const char* m : maps) {
    const json& data = At(obj, m);
    if (!data.is_object()) continue;
    for (auto it = data.begin(); it != data.end(); ++it) {
      const std::string& key = it.key();
      std::string path = absl::StrCat(m, "[", key, "]");
      bool ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
      if (key.size() > 253) errs.push_back(Invalid(path, key, "must be no more than 253 characters"));
      if (!ok) errs.push_back(Invalid(path, key, kConfigKeyMsg));
      if (key == "." || key == "..") errs.push_back(Invalid(path, key, "must not be '.' or '..'"));
      if (!seen.insert(key).second) errs.push_back(Invalid(path, key, "duplicate of key present in data"));
      if (it->is_string()) total += it->get_ref<const std::string&>().size();
    }
  }
  if (total > 1024 * 1024) {
    errs.push_back({"FieldValueTooLong", "", "Too long: must have at most 1048576 bytes"});
  }
}

bool IsBase64(const std::string& s) {
  if (s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      ++pad;
      if (i < s.size() - 2) return false;
    } else if (pad > 0 || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
      return false;
    }
  }
  return pad <= 2;
}

void ImmutableData(const json& obj, const json* old, std::initializer_list<const char*> fields,
                   std::vector<FieldError>& errs) {
  if (old == nullptr || !At(*old, "immutable").is_boolean() || !At(*old, "immutable").get<bool>()) return;
  for (const char* f : fields) {
    if (At(obj, f) != At(*old, f)) errs.push_back(Forbidden(f, "field is immutable when `immutable` is set"));
  }
  if (At(obj, "immutable") != At(*old, "immutable")) {
    errs.push_back(Forbidden("immutable", "field is immutable when `immutable` is set"));
  }
}

void ConfigureConfigMap(KindInfo& k) {
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    ValidateDataKeys(obj, {"data", "binaryData"}, errs);
    ImmutableData(obj, old, {"data", "binaryData"}, errs);
  });
  k.columns = {NameColumn(), Column("Data", "integer", "Number of keys in data and binaryData."), AgeColumn()};
  k.row_cells = [](const json& obj) {
    size_t n = At(obj, "data").size() + At(obj, "binaryData").size();
    return std::vector<json>{StringAt(obj, "metadata.name"), n, Age(At(obj, "metadata.creationTimestamp"))};
  };
}

void ConfigureSecret(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    if (!obj.contains("type") || obj["type"] == "") obj["type"] = "Opaque";
    // stringData is write-only: its values land in data (base64), as the
    // API's conversion does, overriding data's value for the same key.
    if (obj.contains("stringData") && obj["stringData"].is_object()) {
      for (auto it = obj["stringData"].begin(); it != obj["stringData"].end(); ++it) {
        if (it->is_string()) obj["data"][it.key()] = absl::Base64Escape(it->get<std::string>());
      }
      obj.erase("stringData");
    }
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    ValidateDataKeys(obj, {"data", "stringData"}, errs);
    if (const json& data = At(obj, "data"); data.is_object()) {
      for (auto it = data.begin(); it != data.end(); ++it) {
        if (it->is_string() && !IsBase64(it->get<std::string>())) {
          errs.push_back(Invalid(absl::StrCat("data[", it.key(), "]"), "<secret contents redacted>",
                                 "must be base64-encoded bytes"));
        }
      }
    }
    std::string type = StringAt(obj, "type");
    auto need_key = [&](const char* key) {
      bool present = At(obj, "data").contains(key) || At(obj, "stringData").contains(key);
      if (!present) errs.push_back(Required(absl::StrCat("data[", key, "]")));
    };
    if (type == "kubernetes.io/service-account-token") {
      if (!At(obj, "metadata.annotations").contains("kubernetes.io/service-account.name")) {
        errs.push_back(Required("metadata.annotations[kubernetes.io/service-account.name]"));
      }
    } else if (type == "kubernetes.io/dockercfg") {
      need_key(".dockercfg");
    } else if (type == "kubernetes.io/dockerconfigjson") {
      need_key(".dockerconfigjson");
    } else if (type == "kubernetes.io/basic-auth") {
      bool any = false;
      for (const char* key : {"username", "password"}) {
        any = any || At(obj, "data").contains(key) || At(obj, "stringData").contains(key);
      }
      if (!any) errs.push_back(Required("data[username]", "either username or password is required"));
    } else if (type == "kubernetes.io/ssh-auth") {
      need_key("ssh-privatekey");
    } else if (type == "kubernetes.io/tls") {
      need_key("tls.key");
      need_key("tls.crt");
    }
    if (old != nullptr && StringAt(*old, "type") != type) {
      errs.push_back(Invalid("type", type, "field is immutable"));
    }
    ImmutableData(obj, old, {"data"}, errs);
  });
  k.columns = {NameColumn(), Column("Type", "string", "The type of the secret."),
               Column("Data", "integer", "Number of keys in the secret."), AgeColumn()};
  k.row_cells = [](const json& obj) {
    return std::vector<json>{StringAt(obj, "metadata.name"), StringAt(obj, "type"), At(obj, "data").size(),
                             Age(At(obj, "metadata.creationTimestamp"))};
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    if (f == "type") return StringAt(obj, "type");
    return std::nullopt;
  });
}

void ConfigureNamespace(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    // The label every namespace carries since 1.21, and the finalizer that
    // makes deletion empty the namespace first.
    std::string name = StringAt(obj, "metadata.name");
    if (!name.empty()) obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    if (!At(obj, "spec.finalizers").is_array()) obj["spec"]["finalizers"] = json::array({"kubernetes"});
    if (StringAt(obj, "status.phase").empty()) obj["status"]["phase"] = "Active";
  };
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    const json& fin = At(obj, "spec.finalizers");
    if (!fin.is_array()) return;
    for (size_t i = 0; i < fin.size(); ++i) {
      if (!fin[i].is_string()) continue;
      std::string f = fin[i].get<std::string>();
      std::string path = absl::StrCat("spec.finalizers[", i, "]");
      // Standard finalizers have no domain; others must be qualified names.
      if (f != "kubernetes" && f.find('/') == std::string::npos) {
        errs.push_back(Invalid(path, f, "name is neither a standard finalizer name nor is it fully qualified"));
      } else {
        for (const auto& m : IsQualifiedName(f)) errs.push_back(Invalid(path, f, m));
      }
    }
  });
  k.columns = {NameColumn(), Column("Status", "string", "The status of the namespace."), AgeColumn()};
  k.row_cells = [](const json& obj) {
    return std::vector<json>{StringAt(obj, "metadata.name"), StringAt(obj, "status.phase"),
                             Age(At(obj, "metadata.creationTimestamp"))};
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    if (f == "status.phase") return StringAt(obj, "status.phase");
    return std::nullopt;
  });
}

// kubectl's node STATUS: Ready / NotReady / Unknown, plus SchedulingDisabled.
std::string NodeStatus(const json& node) {
  std::vector<std::string> status;
  const json& conds = At(node, "status.conditions");
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (StringAt(c, "type") != "Ready") continue;
      std::string s = StringAt(c, "status");
      status.push_back(s == "True" ? "Ready" : s == "False" ? "NotReady" : "Unknown");
    }
  }
  if (status.empty()) status.push_back("Unknown");
  if (At(node, "spec.unschedulable").is_boolean() && At(node, "spec.unschedulable").get<bool>()) {
    status.push_back("SchedulingDisabled");
  }
  return absl::StrJoin(status, ",");
}

std::string NodeRoles(const json& node) {
  std::set<std::string> roles;
  const json& labels = At(node, "metadata.labels");
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      const std::string& key = it.key();
      if (absl::StartsWith(key, "node-role.kubernetes.io/")) {
        std::string role = key.substr(std::string("node-role.kubernetes.io/").size());
        if (!role.empty()) roles.insert(role);
      } else if (key == "kubernetes.io/role" && it->is_string() && !it->get<std::string>().empty()) {
        roles.insert(it->get<std::string>());
      }
    }
  }
  return JoinOrNone({roles.begin(), roles.end()});
}

std::string NodeAddress(const json& node, const char* type) {
  const json& addrs = At(node, "status.addresses");
  if (addrs.is_array()) {
    for (const auto& a : addrs) {
      if (StringAt(a, "type") == type) return StringAt(a, "address");
    }
  }
  return "<none>";
}

void ConfigureNode(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    // SetDefaults_NodeStatus: allocatable defaults to capacity.
    const json& cap = At(obj, "status.capacity");
    if (cap.is_object() && !At(obj, "status.allocatable").is_object()) obj["status"]["allocatable"] = cap;
  };
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    const json& taints = At(obj, "spec.taints");
    if (!taints.is_array()) return;
    std::set<std::string> seen;
    for (size_t i = 0; i < taints.size(); ++i) {
      std::string p = absl::StrCat("spec.taints[", i, "]");
      std::string key = StringAt(taints[i], "key");
      std::string effect = StringAt(taints[i], "effect");
      if (key.empty()) errs.push_back(Required(p + ".key"));
      for (const auto& m : IsQualifiedName(key)) if (!key.empty()) errs.push_back(Invalid(p + ".key", key, m));
      if (effect.empty()) {
        errs.push_back(Required(p + ".effect"));
      } else if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
        errs.push_back(NotSupported(p + ".effect", effect, {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
      }
      if (!seen.insert(key + ":" + effect).second) {
        errs.push_back(Duplicate(p, absl::StrCat(key, "=", StringAt(taints[i], "value"), ":", effect)));
      }
    }
  });
  k.columns = {NameColumn(),
               Column("Status", "string", "The status of the node."),
               Column("Roles", "string", "The roles of the node."),
               AgeColumn(),
               Column("Version", "string", "Node agent version reported by the node."),
               Column("Internal-IP", "string", "List of internal IPs.", 1),
               Column("External-IP", "string", "List of external IPs.", 1),
               Column("OS-Image", "string", "OS image reported by the node.", 1),
               Column("Kernel-Version", "string", "Kernel version reported by the node.", 1),
               Column("Container-Runtime", "string", "Container runtime reported by the node.", 1)};
  k.row_cells = [](const json& obj) {
    std::string os_image = StringAt(obj, "status.nodeInfo.osImage");
    std::string kernel = StringAt(obj, "status.nodeInfo.kernelVersion");
    std::string runtime = StringAt(obj, "status.nodeInfo.containerRuntimeVersion");
    return std::vector<json>{StringAt(obj, "metadata.name"), NodeStatus(obj), NodeRoles(obj),
                             Age(At(obj, "metadata.creationTimestamp")),
                             StringAt(obj, "status.nodeInfo.kubeletVersion"),
                             NodeAddress(obj, "InternalIP"), NodeAddress(obj, "ExternalIP"),
                             os_image.empty() ? "<unknown>" : os_image,
                             kernel.empty() ? "<unknown>" : kernel,
                             runtime.empty() ? "<unknown>" : runtime};
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    if (f == "spec.unschedulable") return BoolText(At(obj, "spec.unschedulable"));
    return std::nullopt;
  });
}

// ---- Service ----

std::string ServicePorts(const json& svc) {
  std::vector<std::string> out;
  const json& ports = At(svc, "spec.ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      std::string s = std::to_string(IntAt(p, "port"));
      if (IntAt(p, "nodePort") > 0) s += ":" + std::to_string(IntAt(p, "nodePort"));
      std::string proto = StringAt(p, "protocol");
      out.push_back(s + "/" + (proto.empty() ? "TCP" : proto));
    }
  }
  return JoinOrNone(out);
}

std::string ServiceExternalIP(const json& svc) {
  std::string type = StringAt(svc, "spec.type");
  std::vector<std::string> ips;
  if (const json& e = At(svc, "spec.externalIPs"); e.is_array()) {
    for (const auto& ip : e) if (ip.is_string()) ips.push_back(ip.get<std::string>());
  }
  if (type == "ExternalName") return StringAt(svc, "spec.externalName");
  if (type == "LoadBalancer") {
    std::vector<std::string> lb;
    if (const json& ing = At(svc, "status.loadBalancer.ingress"); ing.is_array()) {
      for (const auto& i : ing) {
        std::string v = StringAt(i, "ip");
        if (v.empty()) v = StringAt(i, "hostname");
        if (!v.empty()) lb.push_back(v);
      }
    }
    lb.insert(lb.end(), ips.begin(), ips.end());
    return lb.empty() ? "<pending>" : absl::StrJoin(lb, ",");
  }
  return JoinOrNone(ips);
}

std::string LabelsText(const json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      parts.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump()));
    }
  }
  return JoinOrNone(parts);
}

void ConfigureService(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    json& spec = obj["spec"];
    if (!spec.is_object()) spec = json::object();
    if (StringAt(spec, "type").empty()) spec["type"] = "ClusterIP";
    std::string type = spec["type"].get<std::string>();
    if (StringAt(spec, "sessionAffinity").empty()) spec["sessionAffinity"] = "None";
    if (spec["sessionAffinity"] == "ClientIP" && !At(spec, "sessionAffinityConfig.clientIP.timeoutSeconds").is_number()) {
      spec["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] = 10800;
    }
    if (type != "ExternalName") {
      if (StringAt(spec, "internalTrafficPolicy").empty()) spec["internalTrafficPolicy"] = "Cluster";
    }
    if ((type == "NodePort" || type == "LoadBalancer") && StringAt(spec, "externalTrafficPolicy").empty()) {
      spec["externalTrafficPolicy"] = "Cluster";
    }
    if (type == "LoadBalancer" && !At(spec, "allocateLoadBalancerNodePorts").is_boolean()) {
      spec["allocateLoadBalancerNodePorts"] = true;
    }
    if (json& ports = spec["ports"]; ports.is_array()) {
      for (auto& p : ports) {
        if (!p.is_object()) continue;
        if (StringAt(p, "protocol").empty()) p["protocol"] = "TCP";
        const json& target = At(p, "targetPort");
        if (target.is_null() || target == 0 || target == "") p["targetPort"] = At(p, "port");
      }
    } else {
      spec.erase("ports");
    }
    if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = {{"loadBalancer", json::object()}};
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    std::string type = StringAt(obj, "spec.type");
    if (!type.empty() && type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" &&
        type != "ExternalName") {
      errs.push_back(NotSupported("spec.type", type, {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}));
    }
    std::string affinity = StringAt(obj, "spec.sessionAffinity");
    if (!affinity.empty() && affinity != "None" && affinity != "ClientIP") {
      errs.push_back(NotSupported("spec.sessionAffinity", affinity, {"ClientIP", "None"}));
    }
    const json& ports = At(obj, "spec.ports");
    if (type == "ExternalName") {
      std::string name = StringAt(obj, "spec.externalName");
      if (name.empty()) {
        errs.push_back(Required("spec.externalName"));
      } else {
        for (const auto& m : IsDNS1123Subdomain(name)) errs.push_back(Invalid("spec.externalName", name, m));
      }
    } else if (StringAt(obj, "spec.clusterIP") != "None" && (!ports.is_array() || ports.empty())) {
      errs.push_back(Required("spec.ports"));
    }
    if (ports.is_array()) {
      std::set<std::string> names, keys;
      for (size_t i = 0; i < ports.size(); ++i) {
        const json& p = ports[i];
        std::string base = absl::StrCat("spec.ports[", i, "]");
        std::string name = StringAt(p, "name");
        if (ports.size() > 1 && name.empty()) errs.push_back(Required(base + ".name"));
        if (!name.empty()) {
          for (const auto& m : IsDNS1123Label(name)) errs.push_back(Invalid(base + ".name", name, m));
          if (!names.insert(name).second) errs.push_back(Duplicate(base + ".name", name));
        }
        const json& port = At(p, "port");
        if (!port.is_number_integer() || port.get<int64_t>() < 1 || port.get<int64_t>() > 65535) {
          errs.push_back(Invalid(base + ".port", port.is_null() ? json(0) : port,
                                 "must be between 1 and 65535, inclusive"));
        }
        std::string proto = StringAt(p, "protocol");
        if (proto.empty()) {
          errs.push_back(Required(base + ".protocol"));
        } else if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
          errs.push_back(NotSupported(base + ".protocol", proto, {"SCTP", "TCP", "UDP"}));
        }
        if (!keys.insert(absl::StrCat(port.dump(), "/", proto)).second) {
          errs.push_back(Duplicate(base, json{{"port", port}, {"protocol", proto}}));
        }
        const json& target = At(p, "targetPort");
        if (target.is_number_integer() && (target.get<int64_t>() < 1 || target.get<int64_t>() > 65535)) {
          errs.push_back(Invalid(base + ".targetPort", target, "must be between 1 and 65535, inclusive"));
        } else if (target.is_string()) {
          for (const auto& m : IsValidPortName(target.get<std::string>())) {
            errs.push_back(Invalid(base + ".targetPort", target, m));
          }
        }
        const json& node_port = At(p, "nodePort");
        if (node_port.is_number_integer() && node_port.get<int64_t>() != 0) {
          if (type != "NodePort" && type != "LoadBalancer") {
            errs.push_back(Forbidden(base + ".nodePort", "may not be used when `type` is '" + type + "'"));
          } else if (node_port.get<int64_t>() < 1 || node_port.get<int64_t>() > 65535) {
            errs.push_back(Invalid(base + ".nodePort", node_port, "must be between 1 and 65535, inclusive"));
          }
        }
      }
    }
    const json& selector = At(obj, "spec.selector");
    if (selector.is_object()) {
      for (auto it = selector.begin(); it != selector.end(); ++it) {
        for (const auto& m : IsQualifiedName(it.key())) errs.push_back(Invalid("spec.selector", it.key(), m));
        if (it->is_string()) {
          for (const auto& m : IsValidLabelValue(it->get<std::string>())) {
            errs.push_back(Invalid("spec.selector", *it, m));
          }
        }
      }
    }
    // clusterIP is set once (allocated or given) and then immutable, except
    // when the type changes to or from ExternalName.
    if (old != nullptr) {
      std::string was = StringAt(*old, "spec.clusterIP");
      std::string now = StringAt(obj, "spec.clusterIP");
      if (!was.empty() && !now.empty() && was != now && StringAt(*old, "spec.type") != "ExternalName" &&
          type != "ExternalName") {
        errs.push_back(Invalid("spec.clusterIPs[0]", now, "may not change once set"));
      }
    }
  });
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    if (f == "spec.clusterIP" || f == "spec.type") return StringAt(obj, f);
    return std::nullopt;
  });
  k.columns = {NameColumn(),
               Column("Type", "string", "The type of the service."),
               Column("Cluster-IP", "string", "The cluster IP of the service."),
               Column("External-IP", "string", "External addresses of the service."),
               Column("Port(s)", "string", "The ports the service exposes."),
               AgeColumn(),
               Column("Selector", "string", "The label selector of the service.", 1)};
  k.row_cells = [](const json& obj) {
    std::string cluster_ip = StringAt(obj, "spec.clusterIP");
    return std::vector<json>{StringAt(obj, "metadata.name"), StringAt(obj, "spec.type"),
                             cluster_ip.empty() ? "<none>" : cluster_ip, ServiceExternalIP(obj),
                             ServicePorts(obj), Age(At(obj, "metadata.creationTimestamp")),
                             LabelsText(At(obj, "spec.selector"))};
  };
}

// ---- Endpoints ----

std::string EndpointsText(const json& ep) {
  std::vector<std::string> list;
  size_t total = 0;
  const json& subsets = At(ep, "subsets");
  if (subsets.is_array()) {
    for (const auto& s : subsets) {
      const json& addrs = At(s, "addresses");
      const json& ports = At(s, "ports");
      if (!addrs.is_array()) continue;
      if (!ports.is_array() || ports.empty()) {
        for (const auto& a : addrs) {
          ++total;
          if (list.size() < 3) list.push_back(StringAt(a, "ip"));
        }
        continue;
      }
      for (const auto& p : ports) {
        for (const auto& a : addrs) {
          ++total;
          if (list.size() < 3) list.push_back(StringAt(a, "ip") + ":" + std::to_string(IntAt(p, "port")));
        }
      }
    }
  }
  if (list.empty()) return "<none>";
  std::string out = absl::StrJoin(list, ",");
  if (total > list.size()) out += absl::StrCat(" + ", total - list.size(), " more...");
  return out;
}

void ConfigureEndpoints(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    if (json* subsets = obj.contains("subsets") ? &obj["subsets"] : nullptr; subsets && subsets->is_array()) {
      for (auto& s : *subsets) {
        if (!s.is_object() || !s.contains("ports") || !s["ports"].is_array()) continue;
        for (auto& p : s["ports"]) {
          if (p.is_object() && StringAt(p, "protocol").empty()) p["protocol"] = "TCP";
        }
      }
    }
  };
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    const json& subsets = At(obj, "subsets");
    if (!subsets.is_array()) return;
    for (size_t i = 0; i < subsets.size(); ++i) {
      for (const char* list : {"addresses", "notReadyAddresses"}) {
        const json& addrs = At(subsets[i], list);
        if (!addrs.is_array()) continue;
        for (size_t j = 0; j < addrs.size(); ++j) {
          if (StringAt(addrs[j], "ip").empty()) {
            errs.push_back(Required(absl::StrCat("subsets[", i, "].", list, "[", j, "].ip")));
          }
        }
      }
      const json& ports = At(subsets[i], "ports");
      if (!ports.is_array()) continue;
      for (size_t j = 0; j < ports.size(); ++j) {
        int64_t port = IntAt(ports[j], "port");
        if (port < 1 || port > 65535) {
          errs.push_back(Invalid(absl::StrCat("subsets[", i, "].ports[", j, "].port"), port,
                                 "must be between 1 and 65535, inclusive"));
        }
      }
    }
  });
  k.columns = {NameColumn(), Column("Endpoints", "string", "Endpoints of the service (the first three)."),
               AgeColumn()};
  k.row_cells = [](const json& obj) {
    return std::vector<json>{StringAt(obj, "metadata.name"), EndpointsText(obj),
                             Age(At(obj, "metadata.creationTimestamp"))};
  };
}

// ---- Event (core/v1) ----

std::string EventLastSeen(const json& ev) {
  const json& series_last = At(ev, "series.lastObservedTime");
  if (series_last.is_string()) return Age(series_last);
  const json& last = At(ev, "lastTimestamp");
  if (last.is_string()) return Age(last);
  const json& event_time = At(ev, "eventTime");
  if (event_time.is_string()) return Age(event_time);
  return Age(At(ev, "metadata.creationTimestamp"));
}

void ConfigureCoreEvent(KindInfo& k) {
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    std::string ns = StringAt(obj, "metadata.namespace");
    std::string involved_ns = StringAt(obj, "involvedObject.namespace");
    if (!involved_ns.empty() && involved_ns != ns) {
      errs.push_back(Invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"));
    }
    std::string type = StringAt(obj, "type");
    if (!type.empty() && type != "Normal" && type != "Warning") {
      errs.push_back(NotSupported("type", type, {"Normal", "Warning"}));
    }
  });
  k.columns = EventColumns();
  k.row_cells = [](const json& obj) {
    std::string kind = StringAt(obj, "involvedObject.kind");
    for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string source = StringAt(obj, "source.component");
    if (std::string host = StringAt(obj, "source.host"); !host.empty()) source += ", " + host;
    if (source.empty()) source = StringAt(obj, "reportingComponent");
    const json& first = At(obj, "firstTimestamp");
    int64_t count = IntAt(obj, "series.count") > 0 ? IntAt(obj, "series.count") : IntAt(obj, "count");
    return std::vector<json>{EventLastSeen(obj), StringAt(obj, "type"), StringAt(obj, "reason"),
                             kind + "/" + StringAt(obj, "involvedObject.name"),
                             StringAt(obj, "involvedObject.fieldPath"), source, StringAt(obj, "message"),
                             first.is_string() ? Age(first) : Age(At(obj, "eventTime")),
                             std::to_string(count), StringAt(obj, "metadata.name")};
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    static const std::set<std::string, std::less<>> kInvolved = {
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"};
    if (f.starts_with("involvedObject.") && kInvolved.count(f.substr(15))) {
      return StringAt(obj, std::string("involvedObject.") + std::string(f.substr(15)));
    }
    if (f == "reason" || f == "type" || f == "reportingComponent") return StringAt(obj, f);
    if (f == "source") return StringAt(obj, "source.component");
    return std::nullopt;
  });
}

void ConfigureServiceAccount(KindInfo& k) {
  k.columns = {NameColumn(), Column("Secrets", "string", "Number of secrets of the account."), AgeColumn()};
  k.row_cells = [](const json& obj) {
    return std::vector<json>{StringAt(obj, "metadata.name"), std::to_string(At(obj, "secrets").size()),
                             Age(At(obj, "metadata.creationTimestamp"))};
  };
}

}  // namespace

void ConfigureCoreKind(KindInfo& k) {
  if (k.kind == "ConfigMap") ConfigureConfigMap(k);
  if (k.kind == "Secret") ConfigureSecret(k);
  if (k.kind == "Namespace") ConfigureNamespace(k);
  if (k.kind == "Node") ConfigureNode(k);
  if (k.kind == "Service") ConfigureService(k);
  if (k.kind == "Endpoints") ConfigureEndpoints(k);
  if (k.kind == "Event") ConfigureCoreEvent(k);
  if (k.kind == "ServiceAccount") ConfigureServiceAccount(k);
}

}  // namespace berth::k8s::kinds
