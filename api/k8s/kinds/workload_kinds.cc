// apps/v1 Deployment, ReplicaSet, DaemonSet, StatefulSet and batch/v1 Job:
// kube-apiserver's defaults, validation (selector, template, strategies),
// Table columns.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/k8s/kinds/kind_builders.h"
#include "api/k8s/kinds/table_cells.h"
#include "api/k8s/validation.h"
#include "common/time.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;

json& Obj(json& parent, const char* key) {
  json& v = parent[key];
  if (!v.is_object()) v = json::object();
  return v;
}

void Default(json& obj, const char* key, const json& value) {
  if (!obj.contains(key) || obj[key].is_null()) obj[key] = value;
}

// Go's %#v of a map[string]string, as kube-apiserver's messages print labels.
std::string GoStringMap(const json& m) {
  std::vector<std::string> parts;
  if (m.is_object()) {
    for (auto it = m.begin(); it != m.end(); ++it) parts.push_back(RenderValue(it.key()) + ":" + RenderValue(*it));
  }
  return "map[string]string{" + absl::StrJoin(parts, ", ") + "}";
}

// Whether `selector` (metav1.LabelSelector) selects `labels`.
bool SelectorMatches(const json& selector, const json& labels) {
  auto label = [&](const std::string& key) -> std::optional<std::string> {
    if (!labels.is_object() || !labels.contains(key) || !labels[key].is_string()) return std::nullopt;
    return labels[key].get<std::string>();
  };
  if (const json& ml = At(selector, "matchLabels"); ml.is_object()) {
    for (auto it = ml.begin(); it != ml.end(); ++it) {
      if (label(it.key()) != (it->is_string() ? std::optional(it->get<std::string>()) : std::nullopt)) return false;
    }
  }
  if (const json& exprs = At(selector, "matchExpressions"); exprs.is_array()) {
    for (const auto& e : exprs) {
      auto v = label(StringAt(e, "key"));
      std::string op = StringAt(e, "operator");
      std::set<std::string> values;
      if (const json& vs = At(e, "values"); vs.is_array()) {
        for (const auto& x : vs) if (x.is_string()) values.insert(x.get<std::string>());
      }
      if (op == "In" && (!v || !values.count(*v))) return false;
      if (op == "NotIn" && v && values.count(*v)) return false;
      if (op == "Exists" && !v) return false;
      if (op == "DoesNotExist" && v) return false;
    }
  }
  return true;
}

bool SelectorEmpty(const json& selector) {
  return At(selector, "matchLabels").empty() && At(selector, "matchExpressions").empty();
}

void ValidateLabelSelector(const json& selector, const std::string& path, std::vector<FieldError>& errs) {
  if (const json& ml = At(selector, "matchLabels"); ml.is_object()) {
    for (auto it = ml.begin(); it != ml.end(); ++it) {
      for (const auto& m : IsQualifiedName(it.key())) errs.push_back(Invalid(path + ".matchLabels", it.key(), m));
      if (it->is_string()) {
        for (const auto& m : IsValidLabelValue(it->get<std::string>())) {
          errs.push_back(Invalid(path + ".matchLabels", *it, m));
        }
      }
    }
  }
  if (const json& exprs = At(selector, "matchExpressions"); exprs.is_array()) {
    for (size_t i = 0; i < exprs.size(); ++i) {
      std::string p = absl::StrCat(path, ".matchExpressions[", i, "]");
      std::string op = StringAt(exprs[i], "operator");
      size_t n = At(exprs[i], "values").is_array() ? At(exprs[i], "values").size() : 0;
      if (op == "In" || op == "NotIn") {
        if (n == 0) errs.push_back(Required(p + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (n > 0) errs.push_back(Forbidden(p + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      } else {
        errs.push_back(Invalid(p + ".operator", op, "not a valid selector operator"));
      }
      std::string key = StringAt(exprs[i], "key");
      for (const auto& m : IsQualifiedName(key)) errs.push_back(Invalid(p + ".key", key, m));
    }
  }
}

// Selector required and non-empty, the template's labels selected by it,
// the template valid as a pod, its restartPolicy one of `restart_policies`.
void ValidateSelectorAndTemplate(const json& obj, std::initializer_list<const char*> restart_policies,
                                 bool selector_required, std::vector<FieldError>& errs) {
  const json& selector = At(obj, "spec.selector");
  const json& tmpl = At(obj, "spec.template");
  if (selector.is_null()) {
    if (selector_required) errs.push_back(Required("spec.selector"));
  } else {
    ValidateLabelSelector(selector, "spec.selector", errs);
    if (SelectorEmpty(selector)) {
      errs.push_back(Invalid("spec.selector", selector, "empty selector is invalid for deployment"));
    }
  }
  if (!tmpl.is_object()) {
    errs.push_back(Required("spec.template"));
    return;
  }
  const json& labels = At(tmpl, "metadata.labels");
  if (!selector.is_null() && !SelectorEmpty(selector) && !SelectorMatches(selector, labels)) {
    errs.push_back({"FieldValueInvalid", "spec.template.metadata.labels",
                    "Invalid value: " + GoStringMap(labels) + ": `selector` does not match template `labels`"});
  }
  ValidatePodSpec(tmpl, "spec.template.", true, errs);
  std::string policy = StringAt(tmpl, "spec.restartPolicy");
  bool ok = false;
  std::vector<std::string> allowed;
  for (const char* p : restart_policies) {
    ok = ok || policy == p;
    allowed.push_back(p);
  }
  if (!ok && !policy.empty()) errs.push_back(NotSupported("spec.template.spec.restartPolicy", policy, allowed));
  if (At(tmpl, "spec.activeDeadlineSeconds").is_number() && restart_policies.size() == 1) {
    errs.push_back(Forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported"));
  }
}

void NonNegative(const json& obj, const char* path, std::vector<FieldError>& errs) {
  const json& v = At(obj, path);
  if (v.is_number_integer() && v.get<int64_t>() < 0) {
    errs.push_back(Invalid(path, v, "must be greater than or equal to 0"));
  }
}

// An IntOrString that is a count or a percentage ("25%").
void ValidateIntOrPercent(const json& v, const std::string& path, std::vector<FieldError>& errs) {
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0) errs.push_back(Invalid(path, v, "must be greater than or equal to 0"));
    return;
  }
  if (!v.is_string()) return;
  std::string s = v.get<std::string>();
  int pct = 0;
  if (!absl::EndsWith(s, "%") || !absl::SimpleAtoi(s.substr(0, s.size() - 1), &pct)) {
    errs.push_back(Invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
    return;
  }
  if (pct < 0) errs.push_back(Invalid(path, v, "must be greater than or equal to 0"));
  if (pct > 100) errs.push_back(Invalid(path, v, "must not be greater than 100%"));
}

bool IsZero(const json& v) { return v == 0 || v == "0%" || v.is_null(); }

void ValidateRollingUpdate(const json& ru, const std::string& path, std::vector<FieldError>& errs) {
  const json& unavailable = At(ru, "maxUnavailable");
  const json& surge = At(ru, "maxSurge");
  ValidateIntOrPercent(unavailable, path + ".maxUnavailable", errs);
  ValidateIntOrPercent(surge, path + ".maxSurge", errs);
  if (IsZero(unavailable) && IsZero(surge) && !(unavailable.is_null() && surge.is_null())) {
    errs.push_back(Invalid(path + ".maxUnavailable", unavailable.is_null() ? json(0) : unavailable,
                           "may not be 0 when `maxSurge` is 0"));
  }
}

void ImmutableSelector(const json& obj, const json* old, std::vector<FieldError>& errs) {
  if (old != nullptr && At(obj, "spec.selector") != At(*old, "spec.selector")) {
    errs.push_back(Invalid("spec.selector", At(obj, "spec.selector"), "field is immutable"));
  }
}

std::vector<TableColumn> WithWide(std::vector<TableColumn> cols, bool selector) {
  cols.push_back(Column("Containers", "string", "Names of each container in the template.", 1));
  cols.push_back(Column("Images", "string", "Images referenced by each container in the template.", 1));
  if (selector) cols.push_back(Column("Selector", "string", "Label selector of the pods.", 1));
  return cols;
}

void AppendWide(const json& obj, std::vector<json>& cells, bool selector) {
  const json& spec = At(obj, "spec.template.spec");
  cells.push_back(ContainerNames(spec));
  cells.push_back(ContainerImages(spec));
  if (selector) cells.push_back(FormatLabelSelector(At(obj, "spec.selector")));
}

// ---- Deployment ----

void ConfigureDeployment(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    json& spec = Obj(obj, "spec");
    Default(spec, "replicas", 1);
    json& strategy = Obj(spec, "strategy");
    Default(strategy, "type", "RollingUpdate");
    if (strategy["type"] == "RollingUpdate") {
      json& ru = Obj(strategy, "rollingUpdate");
      Default(ru, "maxUnavailable", "25%");
      Default(ru, "maxSurge", "25%");
    }
    Default(spec, "revisionHistoryLimit", 10);
    Default(spec, "progressDeadlineSeconds", 600);
    if (spec.contains("template")) SetPodTemplateDefaults(spec["template"]);
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    NonNegative(obj, "spec.replicas", errs);
    ValidateSelectorAndTemplate(obj, {"Always"}, true, errs);
    std::string type = StringAt(obj, "spec.strategy.type");
    if (type == "Recreate") {
      if (At(obj, "spec.strategy.rollingUpdate").is_object()) {
        errs.push_back(Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
      }
    } else if (type == "RollingUpdate") {
      ValidateRollingUpdate(At(obj, "spec.strategy.rollingUpdate"), "spec.strategy.rollingUpdate", errs);
    } else {
      errs.push_back(NotSupported("spec.strategy.type", type, {"Recreate", "RollingUpdate"}));
    }
    NonNegative(obj, "spec.minReadySeconds", errs);
    NonNegative(obj, "spec.revisionHistoryLimit", errs);
    const json& deadline = At(obj, "spec.progressDeadlineSeconds");
    if (deadline.is_number_integer()) {
      NonNegative(obj, "spec.progressDeadlineSeconds", errs);
      if (deadline.get<int64_t>() <= IntAt(obj, "spec.minReadySeconds")) {
        errs.push_back(Invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"));
      }
    }
    ImmutableSelector(obj, old, errs);
  });
  k.columns = WithWide({NameColumn(),
                        Column("Ready", "string", "Number of the pod with ready state."),
                        Column("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
                        Column("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
                        AgeColumn()},
                       true);
  k.row_cells = [](const json& obj) {
    std::vector<json> cells = {StringAt(obj, "metadata.name"),
                               absl::StrCat(IntAt(obj, "status.readyReplicas"), "/", IntAt(obj, "spec.replicas")),
                               IntAt(obj, "status.updatedReplicas"), IntAt(obj, "status.availableReplicas"),
                               Age(At(obj, "metadata.creationTimestamp"))};
    AppendWide(obj, cells, true);
    return cells;
  };
}

// ---- ReplicaSet ----

void ConfigureReplicaSet(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    json& spec = Obj(obj, "spec");
    Default(spec, "replicas", 1);
    if (spec.contains("template")) SetPodTemplateDefaults(spec["template"]);
  };
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    NonNegative(obj, "spec.replicas", errs);
    NonNegative(obj, "spec.minReadySeconds", errs);
    ValidateSelectorAndTemplate(obj, {"Always"}, true, errs);
  });
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    if (f == "status.replicas") return std::to_string(IntAt(obj, "status.replicas"));
    return std::nullopt;
  });
  k.columns = WithWide({NameColumn(),
                        Column("Desired", "integer", "Number of desired pods."),
                        Column("Current", "integer", "Number of actual pods."),
                        Column("Ready", "integer", "Number of pods ready."),
                        AgeColumn()},
                       true);
  k.row_cells = [](const json& obj) {
    std::vector<json> cells = {StringAt(obj, "metadata.name"), IntAt(obj, "spec.replicas"),
                               IntAt(obj, "status.replicas"), IntAt(obj, "status.readyReplicas"),
                               Age(At(obj, "metadata.creationTimestamp"))};
    AppendWide(obj, cells, true);
    return cells;
  };
}

// ---- DaemonSet ----

void ConfigureDaemonSet(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    json& spec = Obj(obj, "spec");
    json& strategy = Obj(spec, "updateStrategy");
    Default(strategy, "type", "RollingUpdate");
    if (strategy["type"] == "RollingUpdate") {
      json& ru = Obj(strategy, "rollingUpdate");
      Default(ru, "maxUnavailable", 1);
      Default(ru, "maxSurge", 0);
    }
    Default(spec, "revisionHistoryLimit", 10);
    if (spec.contains("template")) SetPodTemplateDefaults(spec["template"]);
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    ValidateSelectorAndTemplate(obj, {"Always"}, true, errs);
    std::string type = StringAt(obj, "spec.updateStrategy.type");
    if (type == "RollingUpdate") {
      ValidateRollingUpdate(At(obj, "spec.updateStrategy.rollingUpdate"), "spec.updateStrategy.rollingUpdate", errs);
    } else if (type != "OnDelete") {
      errs.push_back(NotSupported("spec.updateStrategy.type", type, {"OnDelete", "RollingUpdate"}));
    }
    NonNegative(obj, "spec.minReadySeconds", errs);
    NonNegative(obj, "spec.revisionHistoryLimit", errs);
    ImmutableSelector(obj, old, errs);
  });
  k.columns = WithWide({NameColumn(),
                        Column("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
                        Column("Current", "integer", "The number of nodes that are running at least one daemon pod and are supposed to."),
                        Column("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
                        Column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod."),
                        Column("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
                        Column("Node Selector", "string", "Node selector of the pod template."),
                        AgeColumn()},
                       true);
  k.row_cells = [](const json& obj) {
    std::vector<std::string> node_selector;
    if (const json& ns = At(obj, "spec.template.spec.nodeSelector"); ns.is_object()) {
      for (auto it = ns.begin(); it != ns.end(); ++it) {
        node_selector.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump()));
      }
    }
    std::vector<json> cells = {StringAt(obj, "metadata.name"), IntAt(obj, "status.desiredNumberScheduled"),
                               IntAt(obj, "status.currentNumberScheduled"), IntAt(obj, "status.numberReady"),
                               IntAt(obj, "status.updatedNumberScheduled"), IntAt(obj, "status.numberAvailable"),
                               JoinOrNone(node_selector), Age(At(obj, "metadata.creationTimestamp"))};
    AppendWide(obj, cells, true);
    return cells;
  };
}

// ---- StatefulSet ----

void ConfigureStatefulSet(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    json& spec = Obj(obj, "spec");
    Default(spec, "podManagementPolicy", "OrderedReady");
    json& strategy = Obj(spec, "updateStrategy");
    Default(strategy, "type", "RollingUpdate");
    if (strategy["type"] == "RollingUpdate") Default(Obj(strategy, "rollingUpdate"), "partition", 0);
    Default(spec, "replicas", 1);
    Default(spec, "revisionHistoryLimit", 10);
    json& retention = Obj(spec, "persistentVolumeClaimRetentionPolicy");
    Default(retention, "whenDeleted", "Retain");
    Default(retention, "whenScaled", "Retain");
    if (spec.contains("template")) SetPodTemplateDefaults(spec["template"]);
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    NonNegative(obj, "spec.replicas", errs);
    ValidateSelectorAndTemplate(obj, {"Always"}, true, errs);
    std::string policy = StringAt(obj, "spec.podManagementPolicy");
    if (policy != "OrderedReady" && policy != "Parallel") {
      errs.push_back(NotSupported("spec.podManagementPolicy", policy, {"OrderedReady", "Parallel"}));
    }
    std::string type = StringAt(obj, "spec.updateStrategy.type");
    if (type == "RollingUpdate") {
      const json& partition = At(obj, "spec.updateStrategy.rollingUpdate.partition");
      if (partition.is_number_integer() && partition.get<int64_t>() < 0) {
        errs.push_back(Invalid("spec.updateStrategy.rollingUpdate.partition", partition, "must be greater than or equal to 0"));
      }
    } else if (type == "OnDelete") {
      if (At(obj, "spec.updateStrategy.rollingUpdate").is_object()) {
        errs.push_back(Invalid("spec.updateStrategy.rollingUpdate", At(obj, "spec.updateStrategy.rollingUpdate"),
                               "only allowed for updateStrategy 'RollingUpdate'"));
      }
    } else {
      errs.push_back(NotSupported("spec.updateStrategy.type", type, {"OnDelete", "RollingUpdate"}));
    }
    NonNegative(obj, "spec.minReadySeconds", errs);
    NonNegative(obj, "spec.revisionHistoryLimit", errs);
    if (old != nullptr) {
      json now_spec = At(obj, "spec"), old_spec = At(*old, "spec");
      for (const char* f : {"replicas", "ordinals", "template", "updateStrategy",
                            "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}) {
        if (now_spec.is_object()) now_spec.erase(f);
        if (old_spec.is_object()) old_spec.erase(f);
      }
      if (now_spec != old_spec) {
        errs.push_back(Forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                         "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                                         "and 'minReadySeconds' are forbidden"));
      }
    }
  });
  k.columns = WithWide({NameColumn(), Column("Ready", "string", "Number of the pod with ready state."), AgeColumn()},
                       false);
  k.row_cells = [](const json& obj) {
    std::vector<json> cells = {StringAt(obj, "metadata.name"),
                               absl::StrCat(IntAt(obj, "status.readyReplicas"), "/", IntAt(obj, "spec.replicas")),
                               Age(At(obj, "metadata.creationTimestamp"))};
    AppendWide(obj, cells, false);
    return cells;
  };
}

// ---- Job ----

std::string JobStatus(const json& job) {
  const json& conds = At(job, "status.conditions");
  auto has = [&](const char* type) {
    if (!conds.is_array()) return false;
    for (const auto& c : conds) {
      if (StringAt(c, "type") == type && StringAt(c, "status") == "True") return true;
    }
    return false;
  };
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (At(job, "metadata.deletionTimestamp").is_string()) return "Terminating";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  if (has("Suspended")) return "Suspended";
  return "Running";
}

void ConfigureJob(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    json& spec = Obj(obj, "spec");
    bool completions_set = spec.contains("completions") && !spec["completions"].is_null();
    bool parallelism_set = spec.contains("parallelism") && !spec["parallelism"].is_null();
    if (!completions_set && !parallelism_set) spec["completions"] = 1;
    Default(spec, "parallelism", 1);
    Default(spec, "backoffLimit", spec.contains("backoffLimitPerIndex") ? json(2147483647) : json(6));
    Default(spec, "completionMode", "NonIndexed");
    Default(spec, "suspend", false);
    if (!spec.contains("podFailurePolicy")) Default(spec, "podReplacementPolicy", "TerminatingOrFailed");
    // The generated selector (manualSelector unset): the job's uid as a label
    // on the template and in the selector, once the object has a uid.
    std::string uid = StringAt(obj, "metadata.uid");
    bool manual = At(spec, "manualSelector").is_boolean() && spec["manualSelector"].get<bool>();
    if (!manual && !uid.empty() && !spec.contains("selector")) {
      spec["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
      json& labels = Obj(Obj(Obj(spec, "template"), "metadata"), "labels");
      std::string name = StringAt(obj, "metadata.name");
      Default(labels, "batch.kubernetes.io/controller-uid", uid);
      Default(labels, "controller-uid", uid);
      if (name.size() <= 63) {
        Default(labels, "batch.kubernetes.io/job-name", name);
        Default(labels, "job-name", name);
      }
    }
    if (spec.contains("template")) SetPodTemplateDefaults(spec["template"]);
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    bool manual = At(obj, "spec.manualSelector").is_boolean() && At(obj, "spec.manualSelector").get<bool>();
    ValidateSelectorAndTemplate(obj, {"OnFailure", "Never"}, manual, errs);
    for (const char* f : {"spec.parallelism", "spec.completions", "spec.backoffLimit", "spec.ttlSecondsAfterFinished"}) {
      NonNegative(obj, f, errs);
    }
    const json& deadline = At(obj, "spec.activeDeadlineSeconds");
    if (deadline.is_number_integer() && deadline.get<int64_t>() <= 0) {
      errs.push_back(Invalid("spec.activeDeadlineSeconds", deadline, "must be greater than 0"));
    }
    std::string mode = StringAt(obj, "spec.completionMode");
    if (mode != "NonIndexed" && mode != "Indexed") {
      errs.push_back(NotSupported("spec.completionMode", mode, {"NonIndexed", "Indexed"}));
    }
    if (mode == "Indexed" && !At(obj, "spec.completions").is_number()) {
      errs.push_back(Required("spec.completions", "when completion mode is Indexed"));
    }
    if (old != nullptr) {
      for (const char* f : {"spec.selector", "spec.completionMode"}) {
        if (At(obj, f) != At(*old, f)) errs.push_back(Invalid(f, At(obj, f), "field is immutable"));
      }
      bool suspended = At(*old, "spec.suspend").is_boolean() && At(*old, "spec.suspend").get<bool>();
      if (!suspended && At(obj, "spec.template") != At(*old, "spec.template")) {
        errs.push_back(Invalid("spec.template", At(obj, "spec.template"), "field is immutable"));
      }
    }
  });
  k.columns = WithWide({NameColumn(),
                        Column("Status", "string", "Status of the job."),
                        Column("Completions", "string", "The completion status of the job."),
                        Column("Duration", "string", "Time required to complete the job."),
                        AgeColumn()},
                       true);
  k.row_cells = [](const json& obj) {
    std::string completions;
    int64_t succeeded = IntAt(obj, "status.succeeded");
    if (At(obj, "spec.completions").is_number_integer()) {
      completions = absl::StrCat(succeeded, "/", IntAt(obj, "spec.completions"));
    } else if (IntAt(obj, "spec.parallelism") > 1) {
      completions = absl::StrCat(succeeded, "/1 of ", IntAt(obj, "spec.parallelism"));
    } else {
      completions = absl::StrCat(succeeded, "/1");
    }
    std::string duration;
    auto start = ParseRfc3339(StringAt(obj, "status.startTime"));
    if (start) {
      auto end = ParseRfc3339(StringAt(obj, "status.completionTime"));
      duration = HumanDuration((end ? *end : NowUnixNanos() / 1000000000) - *start);
    }
    std::vector<json> cells = {StringAt(obj, "metadata.name"), JobStatus(obj), completions, duration,
                               Age(At(obj, "metadata.creationTimestamp"))};
    AppendWide(obj, cells, true);
    return cells;
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    if (f == "status.successful") return std::to_string(IntAt(obj, "status.succeeded"));
    return std::nullopt;
  });
}

}  // namespace

void ConfigureWorkloadKind(KindInfo& k) {
  if (k.kind == "Deployment") ConfigureDeployment(k);
  if (k.kind == "ReplicaSet") ConfigureReplicaSet(k);
  if (k.kind == "DaemonSet") ConfigureDaemonSet(k);
  if (k.kind == "StatefulSet") ConfigureStatefulSet(k);
  if (k.kind == "Job") ConfigureJob(k);
}

}  // namespace berth::k8s::kinds
