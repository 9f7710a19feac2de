// core/v1 Pod: defaulting and validation through api/k8s's typed Pod
// (SetDefaultsPod, ValidatePod), kubectl's Table columns (STATUS computed as
// kubectl's printer does) and the selectable fields.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"
#include "api/k8s/defaults.h"
#include "api/k8s/kinds/kind_builders.h"
#include "api/k8s/kinds/table_cells.h"
#include "api/k8s/validation.h"
#include "common/time.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;

// Adds what `src` has and `dst` lacks, recursively (arrays of equal length
// element by element): the defaults, without dropping fields the typed model
// does not know.
void FillMissing(json& dst, const json& src) {
  if (dst.is_object() && src.is_object()) {
    for (auto it = src.begin(); it != src.end(); ++it) {
      auto d = dst.find(it.key());
      if (d == dst.end() || d->is_null()) {
        dst[it.key()] = *it;
      } else {
        FillMissing(*d, *it);
      }
    }
  } else if (dst.is_array() && src.is_array() && dst.size() == src.size()) {
    for (size_t i = 0; i < dst.size(); ++i) FillMissing(dst[i], src[i]);
  }
}


std::string CauseTypeName(k8s::FieldError::Type t) {
  using T = k8s::FieldError::Type;
  switch (t) {
    case T::kRequired: return "FieldValueRequired";
    case T::kInvalid: return "FieldValueInvalid";
    case T::kDuplicate: return "FieldValueDuplicate";
    case T::kNotSupported: return "FieldValueNotSupported";
    case T::kNotFound: return "FieldValueNotFound";
    case T::kForbidden: return "FieldValueForbidden";
    case T::kTooLong: return "FieldValueTooLong";
  }
  return "FieldValueInvalid";
}

// "spec.x: Invalid value: ..." -> {"FieldValueInvalid", "<prefix>spec.x", "Invalid value: ..."}.
FieldError FromTyped(const k8s::FieldError& e, const std::string& prefix) {
  std::string text = e.ToString();
  std::string message = text.substr(std::min(text.size(), e.field.size() + 2));
  return {CauseTypeName(e.type), prefix + e.field, message};
}

const char* kPodUpdateForbidden =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)";

// The spec without the fields an update may change.
json MutableFieldsCleared(json spec) {
  for (const char* list : {"containers", "initContainers"}) {
    if (spec.contains(list) && spec[list].is_array()) {
      for (auto& c : spec[list]) {
        if (c.is_object()) c.erase("image");
      }
    }
  }
  for (const char* f : {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds",
                        "schedulingGates", "ephemeralContainers"}) {
    spec.erase(f);
  }
  // Binding sets nodeName once (pods/binding); a change after that is refused.
  return spec;
}

// ---- Table ----

bool IsRestartable(const json& pod, const std::string& init_name) {
  const json& inits = At(pod, "spec.initContainers");
  if (!inits.is_array()) return false;
  for (const auto& c : inits) {
    if (StringAt(c, "name") == init_name) return StringAt(c, "restartPolicy") == "Always";
  }
  return false;
}

bool ConditionTrue(const json& pod, const char* type) {
  const json& conds = At(pod, "status.conditions");
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    if (StringAt(c, "type") == type) return StringAt(c, "status") == "True";
  }
  return false;
}

struct PodSummary {
  int ready = 0;
  int total = 0;
  std::string reason;
  int64_t restarts = 0;
  std::optional<int64_t> last_restart;  // unix seconds
};

void NoteRestart(const json& status, std::optional<int64_t>& last) {
  const json& finished = At(status, "lastState.terminated.finishedAt");
  if (!finished.is_string()) return;
  auto t = ParseRfc3339(finished.get<std::string>());
  if (t && (!last || *t > *last)) last = t;
}

// kubectl's printPod: READY, STATUS and RESTARTS.
PodSummary Summarize(const json& pod) {
  PodSummary s;
  std::string phase = StringAt(pod, "status.phase");
  s.reason = phase;
  if (std::string r = StringAt(pod, "status.reason"); !r.empty()) s.reason = r;
  if (const json& conds = At(pod, "status.conditions"); conds.is_array()) {
    for (const auto& c : conds) {
      if (StringAt(c, "type") == "PodScheduled" && StringAt(c, "reason") == "SchedulingGated") {
        s.reason = "SchedulingGated";
      }
    }
  }
  const json& containers = At(pod, "spec.containers");
  s.total = containers.is_array() ? static_cast<int>(containers.size()) : 0;
  const json& init_specs = At(pod, "spec.initContainers");
  size_t init_count = init_specs.is_array() ? init_specs.size() : 0;
  if (init_specs.is_array()) {
    for (const auto& c : init_specs) s.total += StringAt(c, "restartPolicy") == "Always";
  }

  int64_t sidecar_restarts = 0;
  std::optional<int64_t> sidecar_last;
  bool initializing = false;
  const json& inits = At(pod, "status.initContainerStatuses");
  if (inits.is_array()) {
    for (size_t i = 0; i < inits.size(); ++i) {
      const json& c = inits[i];
      s.restarts += IntAt(c, "restartCount");
      NoteRestart(c, s.last_restart);
      bool restartable = IsRestartable(pod, StringAt(c, "name"));
      if (restartable) {
        sidecar_restarts += IntAt(c, "restartCount");
        NoteRestart(c, sidecar_last);
      }
      const json& term = At(c, "state.terminated");
      const json& started = At(c, "started");
      if (term.is_object() && IntAt(term, "exitCode") == 0) continue;
      if (restartable && started.is_boolean() && started.get<bool>()) {
        if (At(c, "ready").is_boolean() && At(c, "ready").get<bool>()) ++s.ready;
        continue;
      }
      if (term.is_object()) {
        std::string r = StringAt(term, "reason");
        if (r.empty()) {
          s.reason = IntAt(term, "signal") != 0 ? absl::StrCat("Init:Signal:", IntAt(term, "signal"))
                                                : absl::StrCat("Init:ExitCode:", IntAt(term, "exitCode"));
        } else {
          s.reason = "Init:" + r;
        }
      } else if (std::string w = StringAt(c, "state.waiting.reason"); !w.empty() && w != "PodInitializing") {
        s.reason = "Init:" + w;
      } else {
        s.reason = absl::StrCat("Init:", i, "/", init_count);
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || ConditionTrue(pod, "Initialized")) {
    s.restarts = sidecar_restarts;
    s.last_restart = sidecar_last;
    bool has_running = false;
    const json& statuses = At(pod, "status.containerStatuses");
    if (statuses.is_array()) {
      for (size_t n = statuses.size(); n-- > 0;) {
        const json& c = statuses[n];
        s.restarts += IntAt(c, "restartCount");
        NoteRestart(c, s.last_restart);
        const json& term = At(c, "state.terminated");
        if (std::string w = StringAt(c, "state.waiting.reason"); !w.empty()) {
          s.reason = w;
        } else if (term.is_object() && !StringAt(term, "reason").empty()) {
          s.reason = StringAt(term, "reason");
        } else if (term.is_object()) {
          s.reason = IntAt(term, "signal") != 0 ? absl::StrCat("Signal:", IntAt(term, "signal"))
                                                : absl::StrCat("ExitCode:", IntAt(term, "exitCode"));
        } else if (At(c, "ready").is_boolean() && At(c, "ready").get<bool>() &&
                   At(c, "state.running").is_object()) {
          has_running = true;
          ++s.ready;
        }
      }
    }
    if (s.reason == "Completed" && has_running) {
      s.reason = ConditionTrue(pod, "Ready") ? "Running" : "NotReady";
    }
  }

  bool deleting = At(pod, "metadata.deletionTimestamp").is_string();
  if (deleting && StringAt(pod, "status.reason") == "NodeLost") {
    s.reason = "Unknown";
  } else if (deleting && phase != "Succeeded" && phase != "Failed") {
    s.reason = "Terminating";
  }
  return s;
}

std::string OrNone(std::string s) { return s.empty() ? "<none>" : s; }

}  // namespace

PodRow PodRowAt(const json& pod, int64_t now_unix) {
  PodSummary s = Summarize(pod);
  std::string restarts = std::to_string(s.restarts);
  if (s.restarts != 0 && s.last_restart) {
    restarts += " (" + HumanDuration(now_unix - *s.last_restart) + " ago)";
  }
  std::string pod_ip;
  if (const json& ips = At(pod, "status.podIPs"); ips.is_array() && !ips.empty()) pod_ip = StringAt(ips[0], "ip");
  if (pod_ip.empty()) pod_ip = StringAt(pod, "status.podIP");
  std::string gates = "<none>";
  if (const json& rg = At(pod, "spec.readinessGates"); rg.is_array() && !rg.empty()) {
    int true_count = 0;
    for (const auto& g : rg) true_count += ConditionTrue(pod, StringAt(g, "conditionType").c_str());
    gates = absl::StrCat(true_count, "/", rg.size());
  }
  return {StringAt(pod, "metadata.name"),
          absl::StrCat(s.ready, "/", s.total),
          s.reason,
          restarts,
          AgeSince(At(pod, "metadata.creationTimestamp"), now_unix),
          OrNone(pod_ip),
          OrNone(StringAt(pod, "spec.nodeName")),
          OrNone(StringAt(pod, "status.nominatedNodeName")),
          gates};
}

namespace {

// GetPodQOS: cpu and memory requests and limits summed over all containers.
std::string QosClass(const Pod& pod) {
  std::map<std::string, int64_t> requests, limits;
  bool guaranteed = true;
  auto add = [](const ResourceList& from, std::map<std::string, int64_t>& to, std::set<std::string>* found) {
    for (const auto& [name, q] : from) {
      if ((name != "cpu" && name != "memory") || q.MilliValue() <= 0) continue;
      to[name] += q.MilliValue();
      if (found) found->insert(name);
    }
  };
  for (const auto* list : {&pod.spec.containers, &pod.spec.initContainers}) {
    for (const auto& c : *list) {
      std::set<std::string> limits_found;
      add(c.resources.requests, requests, nullptr);
      add(c.resources.limits, limits, &limits_found);
      if (limits_found.size() != 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  for (const auto& [name, req] : requests) {
    auto lim = limits.find(name);
    if (lim == limits.end() || lim->second != req) guaranteed = false;
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

// The pod defaults; with_status also sets what kube-apiserver puts in a new
// pod's status (phase Pending, the QoS class) when the status lacks them.
void DefaultPod(json& pod, bool with_status) {
  Pod typed;
  if (!FromJson(pod, &typed, DecodeOptions{.strict = false}).ok()) return;  // validate reports it
  SetDefaultsPod(&typed);
  FillMissing(pod, PodToJson(typed));
  if (!with_status) return;
  if (StringAt(pod, "status.phase").empty()) pod["status"]["phase"] = "Pending";
  if (StringAt(pod, "status.qosClass").empty()) pod["status"]["qosClass"] = QosClass(typed);
}

}  // namespace

void SetPodDefaults(json& pod) { DefaultPod(pod, false); }

void SetPodTemplateDefaults(json& tmpl) {
  if (!tmpl.is_object()) return;
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
  if (tmpl.contains("metadata")) pod["metadata"] = tmpl["metadata"];
  pod["spec"] = tmpl.contains("spec") ? tmpl["spec"] : json::object();
  SetPodDefaults(pod);
  tmpl["spec"] = pod["spec"];
}

void ValidatePodSpec(const json& pod, const std::string& prefix, bool template_only,
                     std::vector<FieldError>& errs) {
  Pod typed;
  absl::Status decoded = FromJson(pod, &typed, DecodeOptions{.strict = false});
  if (!decoded.ok()) return;  // type errors are reported from the schema
  for (const auto& e : ValidatePod(typed)) {
    // Metadata is checked by ValidateMetadata with each kind's rules; a
    // template's labels and annotations are still checked here.
    if (e.field.rfind("metadata.", 0) == 0) {
      if (!template_only) continue;
      if (e.field.rfind("metadata.labels", 0) != 0 && e.field.rfind("metadata.annotations", 0) != 0) continue;
    }
    errs.push_back(FromTyped(e, prefix));
  }
}

void ConfigurePodKind(KindInfo& k) {
  k.set_defaults = [](json& pod) { DefaultPod(pod, true); };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    ValidatePodSpec(obj, "", false, errs);
    if (old != nullptr) {
      json now_spec = MutableFieldsCleared(At(obj, "spec"));
      json old_spec = MutableFieldsCleared(At(*old, "spec"));
      // A pod bound after it was stored: nodeName goes from "" to a node.
      if (StringAt(*old, "spec.nodeName").empty()) now_spec.erase("nodeName"), old_spec.erase("nodeName");
      if (now_spec != old_spec) errs.push_back(Forbidden("spec", kPodUpdateForbidden));
    }
  });
  k.columns = {NameColumn(),
               Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
               Column("Status", "string", "The aggregate status of the containers in this pod."),
               Column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
               AgeColumn(),
               Column("IP", "string", "IP address allocated to the pod.", 1),
               Column("Node", "string", "Name of the node this pod is assigned to.", 1),
               Column("Nominated Node", "string", "Node the scheduler preempted pods on for this pod.", 1),
               Column("Readiness Gates", "string", "Readiness gates that are True, of all gates.", 1)};
  k.row_cells = [](const json& obj) {
    PodRow r = PodRowAt(obj, NowUnixNanos() / 1000000000);
    return std::vector<json>{r.name, r.ready, r.status, r.restarts, r.age, r.ip, r.node, r.nominated_node,
                             r.readiness_gates};
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    static const std::set<std::string, std::less<>> kFields = {
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "status.phase", "status.podIP", "status.nominatedNodeName"};
    if (kFields.count(f)) return StringAt(obj, f);
    if (f == "spec.hostNetwork") {
      const json& v = At(obj, "spec.hostNetwork");
      return v.is_boolean() && v.get<bool>() ? "true" : "false";
    }
    return std::nullopt;
  });
}

}  // namespace berth::k8s::kinds
