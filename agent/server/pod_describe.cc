#include "agent/server/pod_describe.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/server/pods_table.h"
#include "agent/server/tab_writer.h"

namespace berth::agent {
namespace {

// kubectl's PrefixWriter levels.
constexpr char kLevel1[] = "  ";
constexpr char kLevel2[] = "    ";
constexpr char kLevel3[] = "      ";

std::string Bool(bool b) { return b ? "True" : "False"; }

std::optional<absl::Time> ParseTime(const std::optional<std::string>& text) {
  absl::Time t;
  std::string err;
  if (!text || !absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) return std::nullopt;
  return t;
}

// Go's time.RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700".
std::string Rfc1123z(const std::optional<std::string>& text, absl::TimeZone zone) {
  auto t = ParseTime(text);
  if (!t) t = absl::UnixEpoch() - absl::Hours(24 * 719162);  // Go's zero time, as kubectl prints an unset one
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", *t, zone);
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool JsonBool(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// `Title:\tk=v` then `\tk2=v2` per further key; `<none>` when empty.
void MultilineMap(std::string* out, const std::string& title, const std::map<std::string, std::string>& m,
                  const char* separator) {
  absl::StrAppend(out, title, ":\t");
  if (m.empty()) {
    absl::StrAppend(out, "<none>\n");
    return;
  }
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out->append("\t");
    first = false;
    absl::StrAppend(out, k, separator, absl::StripSuffix(v, "\n"), "\n");
  }
}

void Tolerations(std::string* out, const std::vector<k8s::Toleration>& tolerations) {
  out->append("Tolerations:\t");
  if (tolerations.empty()) {
    out->append("<none>\n");
    return;
  }
  for (size_t i = 0; i < tolerations.size(); ++i) {
    const auto& t = tolerations[i];
    if (i > 0) out->append("\t");
    out->append(t.key);
    if (!t.value.empty()) absl::StrAppend(out, "=", t.value);
    if (!t.effect.empty()) absl::StrAppend(out, ":", t.effect);
    if (t.operator_ == "Exists" && t.value.empty()) {
      out->append(t.key.empty() && t.effect.empty() ? "op=Exists" : " op=Exists");
    }
    if (t.tolerationSeconds) absl::StrAppend(out, " for ", *t.tolerationSeconds, "s");
    out->append("\n");
  }
}

std::string Ports(const std::vector<k8s::ContainerPort>& ports, bool host) {
  std::vector<std::string> parts;
  for (const auto& p : ports) {
    parts.push_back(absl::StrCat(host ? p.hostPort : p.containerPort, "/", p.protocol.empty() ? "TCP" : p.protocol));
  }
  return absl::StrJoin(parts, ", ");
}

void State(std::string* out, const std::string& title, const k8s::ContainerState& s, absl::TimeZone zone) {
  if (s.running) {
    absl::StrAppend(out, kLevel2, title, ":\tRunning\n", kLevel3, "Started:\t", Rfc1123z(s.running->startedAt, zone),
                    "\n");
  } else if (s.waiting) {
    absl::StrAppend(out, kLevel2, title, ":\tWaiting\n");
    if (!s.waiting->reason.empty()) absl::StrAppend(out, kLevel3, "Reason:\t", s.waiting->reason, "\n");
  } else if (s.terminated) {
    const auto& t = *s.terminated;
    absl::StrAppend(out, kLevel2, title, ":\tTerminated\n");
    if (!t.reason.empty()) absl::StrAppend(out, kLevel3, "Reason:\t", t.reason, "\n");
    if (!t.message.empty()) absl::StrAppend(out, kLevel3, "Message:\t", t.message, "\n");
    absl::StrAppend(out, kLevel3, "Exit Code:\t", t.exitCode, "\n");
    if (t.signal > 0) absl::StrAppend(out, kLevel3, "Signal:\t", t.signal, "\n");
    absl::StrAppend(out, kLevel3, "Started:\t", Rfc1123z(t.startedAt, zone), "\n");
    absl::StrAppend(out, kLevel3, "Finished:\t", Rfc1123z(t.finishedAt, zone), "\n");
  } else {
    absl::StrAppend(out, kLevel2, title, ":\tWaiting\n");
  }
}

void Resources(std::string* out, const k8s::ResourceRequirements& r) {
  if (!r.limits.empty()) absl::StrAppend(out, kLevel2, "Limits:\n");
  for (const auto& [name, q] : r.limits) absl::StrAppend(out, kLevel3, name, ":\t", q.String(), "\n");
  if (!r.requests.empty()) absl::StrAppend(out, kLevel2, "Requests:\n");
  for (const auto& [name, q] : r.requests) absl::StrAppend(out, kLevel3, name, ":\t", q.String(), "\n");
}

// What kubectl's env resolver shows for a fieldRef.
std::string FieldRefValue(const k8s::Pod& pod, const std::string& path) {
  if (path == "metadata.name") return pod.metadata.name;
  if (path == "metadata.namespace") return pod.metadata.namespace_;
  if (path == "metadata.uid") return pod.metadata.uid;
  if (path == "spec.nodeName") return pod.spec.nodeName;
  if (path == "spec.serviceAccountName") return pod.spec.serviceAccountName;
  if (path == "status.podIP") return pod.status.podIP;
  if (path == "status.hostIP") return pod.status.hostIP;
  return "";
}

void Environment(std::string* out, const k8s::Pod& pod, const k8s::Container& c) {
  if (!c.envFrom.empty()) {
    absl::StrAppend(out, kLevel2, "Environment Variables from:\n");
    for (const auto& e : c.envFrom) {
      bool secret = !e.secretRef.is_null();
      const nlohmann::json& ref = secret ? e.secretRef : e.configMapRef;
      std::string from = secret ? "Secret" : "ConfigMap";
      if (!e.prefix.empty()) absl::StrAppend(&from, " with prefix '", e.prefix, "'");
      absl::StrAppend(out, kLevel3, JsonString(ref, "name"), "\t", from, "\tOptional: ",
                      JsonBool(ref, "optional") ? "true" : "false", "\n");
    }
  }
  absl::StrAppend(out, kLevel2, "Environment:", c.env.empty() ? "\t<none>" : "", "\n");
  for (const auto& e : c.env) {
    if (e.valueFrom.is_null()) {
      bool first = true;
      for (absl::string_view line : absl::StrSplit(e.value, '\n')) {
        absl::StrAppend(out, kLevel3, first ? e.name + ":" : "", "\t", line, "\n");
        first = false;
      }
      continue;
    }
    const nlohmann::json& from = e.valueFrom;
    if (from.contains("fieldRef")) {
      const auto& ref = from["fieldRef"];
      std::string path = JsonString(ref, "fieldPath");
      std::string version = JsonString(ref, "apiVersion");
      absl::StrAppend(out, kLevel3, e.name, ":\t", FieldRefValue(pod, path), " (", version.empty() ? "v1" : version,
                      ":", path, ")\n");
    } else if (from.contains("resourceFieldRef")) {
      std::string resource = JsonString(from["resourceFieldRef"], "resource");
      std::string value;
      absl::string_view kind = resource;
      const k8s::ResourceList* list = absl::ConsumePrefix(&kind, "limits.")     ? &c.resources.limits
                                      : absl::ConsumePrefix(&kind, "requests.") ? &c.resources.requests
                                                                                : nullptr;
      if (list) {
        auto it = list->find(std::string(kind));
        value = it != list->end() ? it->second.String() : "0";
      }
      if (value == "0" && (resource == "limits.cpu" || resource == "limits.memory")) value = "node allocatable";
      absl::StrAppend(out, kLevel3, e.name, ":\t", value, " (", resource, ")\n");
    } else if (from.contains("secretKeyRef")) {
      const auto& ref = from["secretKeyRef"];
      absl::StrAppend(out, kLevel3, e.name, ":\t<set to the key '", JsonString(ref, "key"), "' in secret '",
                      JsonString(ref, "name"), "'>\tOptional: ", JsonBool(ref, "optional") ? "true" : "false", "\n");
    } else if (from.contains("configMapKeyRef")) {
      const auto& ref = from["configMapKeyRef"];
      absl::StrAppend(out, kLevel3, e.name, ":\t<set to the key '", JsonString(ref, "key"), "' of config map '",
                      JsonString(ref, "name"), "'>\tOptional: ", JsonBool(ref, "optional") ? "true" : "false", "\n");
    }
  }
}

void Mounts(std::string* out, const k8s::Container& c) {
  absl::StrAppend(out, kLevel2, "Mounts:", c.volumeMounts.empty() ? "\t<none>" : "", "\n");
  std::vector<k8s::VolumeMount> mounts = c.volumeMounts;
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const k8s::VolumeMount& a, const k8s::VolumeMount& b) { return a.mountPath < b.mountPath; });
  for (const auto& m : mounts) {
    std::string flags = m.readOnly ? "ro" : "rw";
    if (!m.subPath.empty()) absl::StrAppend(&flags, ",path=\"", m.subPath, "\"");
    absl::StrAppend(out, kLevel3, m.mountPath, " from ", m.name, " (", flags, ")\n");
  }
  if (!c.volumeDevices.empty()) {
    absl::StrAppend(out, kLevel2, "Devices:\n");
    for (const auto& d : c.volumeDevices) absl::StrAppend(out, kLevel3, d.devicePath, " from ", d.name, "\n");
  }
}

void Containers(std::string* out, const std::string& title, const k8s::Pod& pod,
                const std::vector<k8s::Container>& containers, const std::vector<k8s::ContainerStatus>& statuses,
                absl::TimeZone zone) {
  absl::StrAppend(out, title, ":\n");
  for (const auto& c : containers) {
    const k8s::ContainerStatus* status = nullptr;
    for (const auto& s : statuses) {
      if (s.name == c.name) status = &s;
    }
    absl::StrAppend(out, kLevel1, c.name, ":\n");
    if (status) absl::StrAppend(out, kLevel2, "Container ID:\t", status->containerID, "\n");
    absl::StrAppend(out, kLevel2, "Image:\t", c.image, "\n");
    if (status) absl::StrAppend(out, kLevel2, "Image ID:\t", status->imageID, "\n");
    std::string ports = Ports(c.ports, false);
    std::string host_ports = Ports(c.ports, true);
    absl::StrAppend(out, kLevel2, c.ports.size() > 1 ? "Ports:\t" : "Port:\t", ports.empty() ? "<none>" : ports, "\n");
    absl::StrAppend(out, kLevel2, c.ports.size() > 1 ? "Host Ports:\t" : "Host Port:\t",
                    host_ports.empty() ? "<none>" : host_ports, "\n");
    if (c.securityContext && c.securityContext->seccompProfile) {
      absl::StrAppend(out, kLevel2, "SeccompProfile:\t", c.securityContext->seccompProfile->type, "\n");
    }
    for (const auto& [label, words] : {std::pair{"Command", &c.command}, std::pair{"Args", &c.args}}) {
      if (words->empty()) continue;
      absl::StrAppend(out, kLevel2, label, ":\n");
      for (const auto& w : *words) {
        for (absl::string_view line : absl::StrSplit(w, '\n')) absl::StrAppend(out, kLevel3, line, "\n");
      }
    }
    if (status) {
      State(out, "State", status->state, zone);
      if (status->lastState.terminated) State(out, "Last State", status->lastState, zone);
      absl::StrAppend(out, kLevel2, "Ready:\t", Bool(status->ready), "\n");
      absl::StrAppend(out, kLevel2, "Restart Count:\t", status->restartCount, "\n");
    }
    Resources(out, c.resources);
    if (c.livenessProbe) absl::StrAppend(out, kLevel2, "Liveness:\t", DescribeProbe(*c.livenessProbe), "\n");
    if (c.readinessProbe) absl::StrAppend(out, kLevel2, "Readiness:\t", DescribeProbe(*c.readinessProbe), "\n");
    if (c.startupProbe) absl::StrAppend(out, kLevel2, "Startup:\t", DescribeProbe(*c.startupProbe), "\n");
    Environment(out, pod, c);
    Mounts(out, c);
  }
}

void Volumes(std::string* out, const std::vector<k8s::Volume>& volumes) {
  if (volumes.empty()) {
    out->append("Volumes:\t<none>\n");
    return;
  }
  out->append("Volumes:\n");
  for (const auto& v : volumes) {
    absl::StrAppend(out, kLevel1, v.name, ":\n");
    if (v.hostPath) {
      absl::StrAppend(out, kLevel2, "Type:\tHostPath (bare host directory volume)\n", kLevel2, "Path:\t",
                      v.hostPath->path, "\n", kLevel2, "HostPathType:\t", v.hostPath->type.value_or("<none>"), "\n");
    } else if (v.emptyDir) {
      std::string limit = v.emptyDir->sizeLimit && !v.emptyDir->sizeLimit->IsZero() ? v.emptyDir->sizeLimit->String()
                                                                                   : "<unset>";
      absl::StrAppend(out, kLevel2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n", kLevel2,
                      "Medium:\t", v.emptyDir->medium, "\n", kLevel2, "SizeLimit:\t", limit, "\n");
    } else if (v.configMap) {
      absl::StrAppend(out, kLevel2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n", kLevel2, "Name:\t",
                      v.configMap->name, "\n", kLevel2, "Optional:\t",
                      v.configMap->optional.value_or(false) ? "true" : "false", "\n");
    } else if (v.secret) {
      absl::StrAppend(out, kLevel2, "Type:\tSecret (a volume populated by a Secret)\n", kLevel2, "SecretName:\t",
                      v.secret->secretName, "\n", kLevel2, "Optional:\t",
                      v.secret->optional.value_or(false) ? "true" : "false", "\n");
    } else if (v.projected) {
      absl::StrAppend(out, kLevel2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n");
    } else if (auto it = v.otherSources.fields.find("downwardAPI"); it != v.otherSources.fields.end()) {
      absl::StrAppend(out, kLevel2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n", kLevel2,
                      "Items:\n");
      if (it->second.contains("items") && it->second["items"].is_array()) {
        for (const auto& item : it->second["items"]) {
          std::string path = JsonString(item, "path");
          if (item.contains("fieldRef")) {
            absl::StrAppend(out, kLevel3, JsonString(item["fieldRef"], "fieldPath"), " -> ", path, "\n");
          }
          if (item.contains("resourceFieldRef")) {
            absl::StrAppend(out, kLevel3, JsonString(item["resourceFieldRef"], "resource"), " -> ", path, "\n");
          }
        }
      }
    } else if (auto pvc = v.otherSources.fields.find("persistentVolumeClaim"); pvc != v.otherSources.fields.end()) {
      absl::StrAppend(out, kLevel2,
                      "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n",
                      kLevel2, "ClaimName:\t", JsonString(pvc->second, "claimName"), "\n", kLevel2, "ReadOnly:\t",
                      JsonBool(pvc->second, "readOnly") ? "true" : "false", "\n");
    } else if (!v.otherSources.fields.empty()) {
      absl::StrAppend(out, kLevel2, "Type:\t", v.otherSources.fields.begin()->first, "\n");
    } else {
      absl::StrAppend(out, kLevel1, "<unknown>\n");
    }
  }
}

void Events(std::string* out, const std::vector<EventRecord>& events, absl::Time now) {
  if (events.empty()) {
    out->append("Events:\t<none>\n");
    return;
  }
  out->append("Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
  absl::StrAppend(out, kLevel1, "----\t------\t----\t----\t-------\n");
  for (const auto& e : events) {
    std::string age = HumanAge(now - e.first);
    if (e.count > 1) age = absl::StrCat(HumanAge(now - e.last), " (x", e.count, " over ", age, ")");
    absl::StrAppend(out, kLevel1, e.type, "\t", e.reason, "\t", age, "\t", e.source, "\t",
                    absl::StripAsciiWhitespace(e.message), "\n");
  }
}

}  // namespace

std::string DescribeProbe(const k8s::Probe& p) {
  std::string attrs = absl::StrCat("delay=", p.initialDelaySeconds, "s timeout=", p.timeoutSeconds, "s period=",
                                   p.periodSeconds, "s #success=", p.successThreshold, " #failure=",
                                   p.failureThreshold);
  if (p.exec) return absl::StrCat("exec [", absl::StrJoin(p.exec->command, " "), "] ", attrs);
  if (p.httpGet) {
    std::string scheme = p.httpGet->scheme.empty() ? "http" : absl::AsciiStrToLower(p.httpGet->scheme);
    std::string port = p.httpGet->port.ToString();
    std::string host = p.httpGet->host;
    if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
    std::string path = p.httpGet->path;
    if (!path.empty() && path[0] != '/') path = "/" + path;
    return absl::StrCat("http-get ", scheme, "://", host, port.empty() ? "" : ":", port, path, " ", attrs);
  }
  if (p.tcpSocket) return absl::StrCat("tcp-socket ", p.tcpSocket->host, ":", p.tcpSocket->port.ToString(), " ", attrs);
  if (p.grpc) return absl::StrCat("grpc <pod>:", p.grpc->port, " ", p.grpc->service.value_or(""), " ", attrs);
  return absl::StrCat("unknown ", attrs);
}

std::string DescribePod(const k8s::Pod& pod, const std::vector<EventRecord>& events, absl::Time now,
                        absl::TimeZone zone) {
  std::string out;
  const auto& spec = pod.spec;
  const auto& status = pod.status;
  absl::StrAppend(&out, "Name:\t", pod.metadata.name, "\n");
  absl::StrAppend(&out, "Namespace:\t", pod.metadata.namespace_, "\n");
  absl::StrAppend(&out, "Priority:\t", spec.priority.value_or(0), "\n");
  if (!spec.priorityClassName.empty()) absl::StrAppend(&out, "Priority Class Name:\t", spec.priorityClassName, "\n");
  if (spec.runtimeClassName) absl::StrAppend(&out, "Runtime Class Name:\t", *spec.runtimeClassName, "\n");
  absl::StrAppend(&out, "Service Account:\t", spec.serviceAccountName, "\n");
  absl::StrAppend(&out, "Node:\t", spec.nodeName.empty() ? "<none>" : absl::StrCat(spec.nodeName, "/", status.hostIP),
                  "\n");
  if (status.startTime) absl::StrAppend(&out, "Start Time:\t", Rfc1123z(status.startTime, zone), "\n");
  MultilineMap(&out, "Labels", pod.metadata.labels, "=");
  MultilineMap(&out, "Annotations", pod.metadata.annotations, ": ");
  absl::StrAppend(&out, "Status:\t", status.phase, "\n");
  if (!status.reason.empty()) absl::StrAppend(&out, "Reason:\t", status.reason, "\n");
  if (!status.message.empty()) absl::StrAppend(&out, "Message:\t", status.message, "\n");
  if (spec.securityContext && spec.securityContext->seccompProfile) {
    absl::StrAppend(&out, "SeccompProfile:\t", spec.securityContext->seccompProfile->type, "\n");
  }
  absl::StrAppend(&out, "IP:\t", status.podIP, "\n");
  if (status.podIPs.empty()) {
    out.append("IPs:\t<none>\n");
  } else {
    out.append("IPs:\n");
    for (const auto& ip : status.podIPs) absl::StrAppend(&out, kLevel1, "IP:\t", ip.ip, "\n");
  }
  if (!spec.initContainers.empty()) {
    Containers(&out, "Init Containers", pod, spec.initContainers, status.initContainerStatuses, zone);
  }
  Containers(&out, "Containers", pod, spec.containers, status.containerStatuses, zone);
  if (!spec.readinessGates.empty()) {
    out.append("Readiness Gates:\n  Type\tStatus\n");
    for (const auto& g : spec.readinessGates) {
      std::string st = "<none>";
      for (const auto& c : status.conditions) {
        if (c.type == g.conditionType) st = c.status;
      }
      absl::StrAppend(&out, kLevel1, g.conditionType, " \t", st, " \n");
    }
  }
  if (!status.conditions.empty()) {
    out.append("Conditions:\n  Type\tStatus\n");
    for (const auto& c : status.conditions) absl::StrAppend(&out, kLevel1, c.type, " \t", c.status, " \n");
  }
  Volumes(&out, spec.volumes);
  if (!status.qosClass.empty()) absl::StrAppend(&out, "QoS Class:\t", status.qosClass, "\n");
  MultilineMap(&out, "Node-Selectors", spec.nodeSelector, "=");
  Tolerations(&out, spec.tolerations);
  std::string text = AlignTabs(out);
  // kubectl flushes before the events table: it is aligned on its own.
  std::string events_text;
  Events(&events_text, events, now);
  return text + AlignTabs(events_text);
}

}  // namespace berth::agent
