#include "api/k8s/validation.h"

#include <arpa/inet.h>

#include <limits>
#include <map>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace berth::k8s {
namespace {

// ---- name rules, with the API's messages ----

constexpr char kDNS1123LabelFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr char kDNS1123LabelMsg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr char kDNS1123SubdomainFmt[] =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr char kDNS1123SubdomainMsg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr char kQualifiedNameFmt[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr char kQualifiedNameMsg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr char kLabelValueFmt[] = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr char kLabelValueMsg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr char kEnvVarFmt[] = "[-._a-zA-Z][-._a-zA-Z0-9]*";
constexpr char kEnvVarMsg[] =
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit";

// Anchored match; each pattern compiled once per thread.
bool Match(const std::string& s, const char* fmt) {
  thread_local std::map<std::string, std::regex> cache;
  auto it = cache.find(fmt);
  if (it == cache.end()) it = cache.emplace(fmt, std::regex(fmt)).first;
  return std::regex_match(s, it->second);
}

std::string RegexError(const std::string& msg, const std::string& fmt,
                       std::initializer_list<const char*> examples) {
  std::string out = msg + " (";
  if (examples.size() > 0) {
    out += "e.g. ";
    bool first = true;
    for (const char* e : examples) {
      if (!first) out += " or ";
      out += absl::StrCat("'", e, "', ");
      first = false;
    }
  }
  return out + "regex used for validation is '" + fmt + "')";
}

std::string MaxLenError(int n) { return absl::StrCat("must be no more than ", n, " characters"); }

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

constexpr char kPortRangeMsg[] = "must be between 1 and 65535, inclusive";
constexpr char kNonNegativeMsg[] = "must be greater than or equal to 0";

// ---- error accumulation ----

struct Errors {
  ErrorList list;
  void Required(const std::string& f, const std::string& detail = "") {
    list.push_back({FieldError::Type::kRequired, f, "", detail});
  }
  void Invalid(const std::string& f, const std::string& v, const std::string& detail) {
    list.push_back({FieldError::Type::kInvalid, f, Quote(v), detail});
  }
  void Invalid(const std::string& f, int64_t v, const std::string& detail) {
    list.push_back({FieldError::Type::kInvalid, f, std::to_string(v), detail});
  }
  void Duplicate(const std::string& f, const std::string& v) {
    list.push_back({FieldError::Type::kDuplicate, f, Quote(v), ""});
  }
  void NotFound(const std::string& f, const std::string& v) {
    list.push_back({FieldError::Type::kNotFound, f, Quote(v), ""});
  }
  void Forbidden(const std::string& f, const std::string& detail) {
    list.push_back({FieldError::Type::kForbidden, f, "", detail});
  }
  void NotSupported(const std::string& f, const std::string& v, std::initializer_list<const char*> ok) {
    std::vector<std::string> q;
    for (const char* s : ok) q.push_back(Quote(s));
    list.push_back({FieldError::Type::kNotSupported, f, Quote(v),
                    "supported values: " + absl::StrJoin(q, ", ")});
  }
  // Required when empty, NotSupported when not one of `ok`.
  void Enum(const std::string& f, const std::string& v, std::initializer_list<const char*> ok) {
    if (v.empty()) return Required(f);
    for (const char* s : ok) {
      if (v == s) return;
    }
    NotSupported(f, v, ok);
  }
  void Each(const std::string& f, const std::string& v, const std::vector<std::string>& msgs) {
    for (const auto& m : msgs) Invalid(f, v, m);
  }
  void NonNegative(const std::string& f, int64_t v) {
    if (v < 0) Invalid(f, v, kNonNegativeMsg);
  }
};

std::string Idx(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

std::vector<std::string> IsValidPortNum(int64_t port) {
  if (port < 1 || port > 65535) return {kPortRangeMsg};
  return {};
}

void ValidatePortNumOrName(const IntOrString& port, const std::string& f, Errors& e) {
  if (port.is_string) {
    e.Each(f, port.str_value, IsValidPortName(port.str_value));
  } else {
    for (const auto& m : IsValidPortNum(port.int_value)) e.Invalid(f, port.int_value, m);
  }
}

void ValidateLabels(const std::map<std::string, std::string>& labels, const std::string& f, Errors& e) {
  for (const auto& [k, v] : labels) {
    e.Each(f, k, IsQualifiedName(k));
    e.Each(f, v, IsValidLabelValue(v));
  }
}

void ValidateAnnotations(const std::map<std::string, std::string>& annotations, const std::string& f,
                         Errors& e) {
  size_t total = 0;
  for (const auto& [k, v] : annotations) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    e.Each(f, k, IsQualifiedName(lower));
    total += k.size() + v.size();
  }
  if (total > 256 * 1024) {
    e.list.push_back({FieldError::Type::kTooLong, f, "", "may not be more than 262144 bytes"});
  }
}

void ValidateObjectMeta(const ObjectMeta& m, Errors& e) {
  if (!m.generateName.empty()) {
    // A generated name gets a suffix: only the prefix's characters are checked.
    std::string base = m.generateName;
    if (base.back() == '-') base.pop_back();
    if (!base.empty()) e.Each("metadata.generateName", m.generateName, IsDNS1123Subdomain(base));
  }
  if (m.name.empty()) {
    e.Required("metadata.name", "name or generateName is required");
  } else {
    e.Each("metadata.name", m.name, IsDNS1123Subdomain(m.name));
  }
  if (!m.namespace_.empty()) e.Each("metadata.namespace", m.namespace_, IsDNS1123Label(m.namespace_));
  e.NonNegative("metadata.generation", m.generation);
  ValidateLabels(m.labels, "metadata.labels", e);
  ValidateAnnotations(m.annotations, "metadata.annotations", e);
}

void ValidateVolumes(const std::vector<Volume>& volumes, Errors& e) {
  std::set<std::string> names;
  for (size_t i = 0; i < volumes.size(); ++i) {
    const Volume& v = volumes[i];
    std::string p = Idx("spec.volumes", i);
    if (v.name.empty()) {
      e.Required(p + ".name");
    } else {
      e.Each(p + ".name", v.name, IsDNS1123Label(v.name));
    }
    if (!v.name.empty() && !names.insert(v.name).second) e.Duplicate(p + ".name", v.name);
    std::vector<std::string> sources;
    if (v.hostPath) sources.push_back("hostPath");
    if (v.emptyDir) sources.push_back("emptyDir");
    if (v.secret) sources.push_back("secret");
    if (v.configMap) sources.push_back("configMap");
    if (v.projected) sources.push_back("projected");
    for (const auto& [k, raw] : v.otherSources.fields) sources.push_back(k);
    if (sources.empty()) e.Required(p, "must specify a volume type");
    for (size_t s = 1; s < sources.size(); ++s) {
      e.Forbidden(p + "." + sources[s], "may not specify more than 1 volume type");
    }
    if (v.hostPath) {
      if (v.hostPath->path.empty()) e.Required(p + ".hostPath.path");
      if (v.hostPath->type) {
        static const std::set<std::string> kTypes = {"",     "BlockDevice",  "CharDevice", "Directory",
                                                     "DirectoryOrCreate", "File", "FileOrCreate", "Socket"};
        if (!kTypes.count(*v.hostPath->type)) {
          e.NotSupported(p + ".hostPath.type", *v.hostPath->type,
                         {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                          "FileOrCreate", "Socket"});
        }
      }
    }
    if (v.emptyDir && !v.emptyDir->medium.empty() && v.emptyDir->medium != "Memory" &&
        v.emptyDir->medium.rfind("HugePages", 0) != 0) {
      e.NotSupported(p + ".emptyDir.medium", v.emptyDir->medium, {"", "Memory", "HugePages"});
    }
    if (v.configMap && v.configMap->name.empty()) e.Required(p + ".configMap.name");
    if (v.secret && v.secret->secretName.empty()) e.Required(p + ".secret.secretName");
  }
}

void ValidateHandlerCount(const std::string& p, std::vector<const char*> present, Errors& e) {
  if (present.empty()) e.Required(p, "must specify a handler type");
  for (size_t i = 1; i < present.size(); ++i) {
    e.Forbidden(p + "." + present[i], "may not specify more than 1 handler type");
  }
}

void ValidateExec(const std::optional<ExecAction>& exec, const std::string& p, Errors& e) {
  if (exec && exec->command.empty()) e.Required(p + ".exec.command");
}

void ValidateHTTPGet(const std::optional<HTTPGetAction>& h, const std::string& p, Errors& e) {
  if (!h) return;
  if (h->path.empty()) e.Required(p + ".httpGet.path");
  ValidatePortNumOrName(h->port, p + ".httpGet.port", e);
  if (h->scheme != "HTTP" && h->scheme != "HTTPS") {
    e.NotSupported(p + ".httpGet.scheme", h->scheme, {"HTTP", "HTTPS"});
  }
}

void ValidateTCP(const std::optional<TCPSocketAction>& t, const std::string& p, Errors& e) {
  if (t) ValidatePortNumOrName(t->port, p + ".tcpSocket.port", e);
}

void ValidateProbe(const std::optional<Probe>& probe, const std::string& p, bool liveness_or_startup,
                   bool readiness, Errors& e) {
  if (!probe) return;
  std::vector<const char*> present;
  if (probe->exec) present.push_back("exec");
  if (probe->httpGet) present.push_back("httpGet");
  if (probe->tcpSocket) present.push_back("tcpSocket");
  if (probe->grpc) present.push_back("grpc");
  ValidateHandlerCount(p, present, e);
  ValidateExec(probe->exec, p, e);
  ValidateHTTPGet(probe->httpGet, p, e);
  ValidateTCP(probe->tcpSocket, p, e);
  if (probe->grpc) {
    for (const auto& m : IsValidPortNum(probe->grpc->port)) e.Invalid(p + ".grpc.port", probe->grpc->port, m);
  }
  e.NonNegative(p + ".initialDelaySeconds", probe->initialDelaySeconds);
  e.NonNegative(p + ".timeoutSeconds", probe->timeoutSeconds);
  e.NonNegative(p + ".periodSeconds", probe->periodSeconds);
  e.NonNegative(p + ".successThreshold", probe->successThreshold);
  e.NonNegative(p + ".failureThreshold", probe->failureThreshold);
  if (probe->terminationGracePeriodSeconds) {
    if (readiness) {
      e.Invalid(p + ".terminationGracePeriodSeconds", *probe->terminationGracePeriodSeconds,
                "must not be set for readinessProbes");
    } else if (*probe->terminationGracePeriodSeconds <= 0) {
      e.Invalid(p + ".terminationGracePeriodSeconds", *probe->terminationGracePeriodSeconds,
                "must be greater than 0");
    }
  }
  if (liveness_or_startup && probe->successThreshold != 1) {
    e.Invalid(p + ".successThreshold", probe->successThreshold, "must be 1");
  }
}

void ValidateLifecycleHandler(const std::optional<LifecycleHandler>& h, const std::string& p, Errors& e) {
  if (!h) return;
  std::vector<const char*> present;
  if (h->exec) present.push_back("exec");
  if (h->httpGet) present.push_back("httpGet");
  if (h->tcpSocket) present.push_back("tcpSocket");
  if (h->sleep) present.push_back("sleep");
  ValidateHandlerCount(p, present, e);
  ValidateExec(h->exec, p, e);
  ValidateHTTPGet(h->httpGet, p, e);
  ValidateTCP(h->tcpSocket, p, e);
  if (h->sleep && h->sleep->seconds < 0) e.Invalid(p + ".sleep.seconds", h->sleep->seconds, kNonNegativeMsg);
}

void ValidateSecurityContextIds(const std::optional<int64_t>& user, const std::optional<int64_t>& group,
                                const std::string& p, Errors& e) {
  constexpr char kIdMsg[] = "must be between 0 and 2147483647, inclusive";
  if (user && (*user < 0 || *user > std::numeric_limits<int32_t>::max())) e.Invalid(p + ".runAsUser", *user, kIdMsg);
  if (group && (*group < 0 || *group > std::numeric_limits<int32_t>::max())) e.Invalid(p + ".runAsGroup", *group, kIdMsg);
}

void ValidateContainer(const Container& c, const std::string& p, bool init, const std::set<std::string>& volumes,
                       Errors& e) {
  if (c.name.empty()) {
    e.Required(p + ".name");
  } else {
    e.Each(p + ".name", c.name, IsDNS1123Label(c.name));
  }
  if (c.image.empty()) e.Required(p + ".image");
  // Ports: names valid and unique, numbers in range, protocol known, and (berth's
  // stricter rule, a warning in the API server) containerPort+protocol unique.
  std::set<std::string> port_names, port_keys;
  for (size_t i = 0; i < c.ports.size(); ++i) {
    const ContainerPort& port = c.ports[i];
    std::string pp = Idx(p + ".ports", i);
    if (!port.name.empty()) {
      auto msgs = IsValidPortName(port.name);
      e.Each(pp + ".name", port.name, msgs);
      if (msgs.empty() && !port_names.insert(port.name).second) e.Duplicate(pp + ".name", port.name);
    }
    if (port.containerPort == 0) {
      e.Required(pp + ".containerPort");
    } else {
      for (const auto& m : IsValidPortNum(port.containerPort)) e.Invalid(pp + ".containerPort", port.containerPort, m);
    }
    if (port.hostPort != 0) {
      for (const auto& m : IsValidPortNum(port.hostPort)) e.Invalid(pp + ".hostPort", port.hostPort, m);
    }
    e.Enum(pp + ".protocol", port.protocol, {"SCTP", "TCP", "UDP"});
    if (port.containerPort != 0) {
      std::string key = absl::StrCat(port.containerPort, "/", port.protocol);
      if (!port_keys.insert(key).second) e.Duplicate(pp + ".containerPort", key);
    }
  }
  for (size_t i = 0; i < c.env.size(); ++i) {
    const EnvVar& ev = c.env[i];
    std::string ep = Idx(p + ".env", i);
    if (ev.name.empty()) {
      e.Required(ep + ".name");
    } else if (!Match(ev.name, kEnvVarFmt)) {
      e.Invalid(ep + ".name", ev.name,
                RegexError(kEnvVarMsg, kEnvVarFmt, {"my.env-name", "MY_ENV.NAME", "MyEnvName1"}));
    }
    if (!ev.valueFrom.is_null() && !ev.value.empty()) {
      e.Invalid(ep + ".valueFrom", "", "may not be specified when `value` is not empty");
    }
  }
  std::set<std::string> mount_paths;
  for (size_t i = 0; i < c.volumeMounts.size(); ++i) {
    const VolumeMount& m = c.volumeMounts[i];
    std::string mp = Idx(p + ".volumeMounts", i);
    if (m.name.empty()) e.Required(mp + ".name");
    if (!volumes.count(m.name)) e.NotFound(mp + ".name", m.name);
    if (m.mountPath.empty()) e.Required(mp + ".mountPath");
    if (!m.mountPath.empty() && !mount_paths.insert(m.mountPath).second) {
      e.Invalid(mp + ".mountPath", m.mountPath, "must be unique");
    }
    if (!m.subPath.empty() && (m.subPath[0] == '/' || ("/" + m.subPath + "/").find("/../") != std::string::npos)) {
      e.Invalid(mp + ".subPath", m.subPath, "must be a relative path without '..'");
    }
  }
  for (size_t i = 0; i < c.volumeDevices.size(); ++i) {
    const VolumeDevice& d = c.volumeDevices[i];
    std::string dp = Idx(p + ".volumeDevices", i);
    if (d.name.empty()) e.Required(dp + ".name");
    if (!volumes.count(d.name)) e.NotFound(dp + ".name", d.name);
    if (d.devicePath.empty()) e.Required(dp + ".devicePath");
  }
  // Resources: quantities non-negative, requests <= limits.
  for (const auto& [name, q] : c.resources.limits) {
    if (q.Cmp(Quantity()) < 0) e.Invalid(p + ".resources.limits[" + name + "]", q.String(), kNonNegativeMsg);
  }
  for (const auto& [name, q] : c.resources.requests) {
    std::string rp = p + ".resources.requests[" + name + "]";
    if (q.Cmp(Quantity()) < 0) e.Invalid(rp, q.String(), kNonNegativeMsg);
    auto lim = c.resources.limits.find(name);
    if (lim != c.resources.limits.end() && q.Cmp(lim->second) > 0) {
      e.Invalid(rp, q.String(),
                absl::StrCat("must be less than or equal to ", name, " limit of ", lim->second.String()));
    }
  }
  bool sidecar = init && c.restartPolicy && *c.restartPolicy == "Always";
  if (init && !sidecar) {
    for (auto [probe, name] : {std::pair{&c.livenessProbe, "livenessProbe"},
                               std::pair{&c.readinessProbe, "readinessProbe"},
                               std::pair{&c.startupProbe, "startupProbe"}}) {
      if (*probe) e.Forbidden(p + "." + name, "may not be set for init containers without restartPolicy=Always");
    }
    if (c.lifecycle) e.Forbidden(p + ".lifecycle", "may not be set for init containers without restartPolicy=Always");
  } else {
    ValidateProbe(c.livenessProbe, p + ".livenessProbe", true, false, e);
    ValidateProbe(c.readinessProbe, p + ".readinessProbe", false, true, e);
    ValidateProbe(c.startupProbe, p + ".startupProbe", true, false, e);
    if (c.lifecycle) {
      ValidateLifecycleHandler(c.lifecycle->postStart, p + ".lifecycle.postStart", e);
      ValidateLifecycleHandler(c.lifecycle->preStop, p + ".lifecycle.preStop", e);
    }
  }
  if (c.restartPolicy) {
    if (!init) {
      e.Forbidden(p + ".restartPolicy", "may not be set for non-init containers");
    } else if (*c.restartPolicy != "Always") {
      e.NotSupported(p + ".restartPolicy", *c.restartPolicy, {"Always"});
    }
  }
  e.Enum(p + ".imagePullPolicy", c.imagePullPolicy, {"Always", "IfNotPresent", "Never"});
  e.Enum(p + ".terminationMessagePolicy", c.terminationMessagePolicy, {"File", "FallbackToLogsOnError"});
  if (c.securityContext) {
    ValidateSecurityContextIds(c.securityContext->runAsUser, c.securityContext->runAsGroup,
                               p + ".securityContext", e);
    if (c.securityContext->privileged.value_or(false) && c.securityContext->allowPrivilegeEscalation &&
        !*c.securityContext->allowPrivilegeEscalation) {
      e.Invalid(p + ".securityContext", "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
    }
    if (c.securityContext->procMount && *c.securityContext->procMount != "Default" &&
        *c.securityContext->procMount != "Unmasked") {
      e.NotSupported(p + ".securityContext.procMount", *c.securityContext->procMount, {"Default", "Unmasked"});
    }
  }
  if (c.stdinOnce && !c.stdin) e.Forbidden(p + ".stdinOnce", "cannot be true when stdin is false");
}

bool ValidIP(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

}  // namespace

std::vector<std::string> IsDNS1123Label(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(MaxLenError(63));
  if (!Match(v, kDNS1123LabelFmt)) {
    errs.push_back(RegexError(kDNS1123LabelMsg, kDNS1123LabelFmt, {"my-name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsDNS1123Subdomain(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back(MaxLenError(253));
  if (!Match(v, kDNS1123SubdomainFmt)) {
    errs.push_back(RegexError(kDNS1123SubdomainMsg, kDNS1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> IsQualifiedName(const std::string& v) {
  std::vector<std::string> errs;
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos; (pos = v.find('/', start)) != std::string::npos; start = pos + 1) {
    parts.push_back(v.substr(start, pos - start));
  }
  parts.push_back(v.substr(start));
  std::string name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    name = parts[1];
    if (parts[0].empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const auto& m : IsDNS1123Subdomain(parts[0])) errs.push_back("prefix part " + m);
    }
  } else {
    errs.push_back("a qualified name " +
                   RegexError(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
                   " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + MaxLenError(63));
  }
  if (!Match(name, kQualifiedNameFmt)) {
    errs.push_back("name part " + RegexError(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsValidLabelValue(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(MaxLenError(63));
  if (!Match(v, kLabelValueFmt)) {
    errs.push_back(RegexError(kLabelValueMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> IsValidPortName(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 15) errs.push_back(MaxLenError(15));
  if (!Match(v, "[-a-z0-9]+")) errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!Match(v, ".*[a-z].*")) errs.push_back("must contain at least one letter (a-z)");
  if (v.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!v.empty() && (v.front() == '-' || v.back() == '-')) errs.push_back("must not begin or end with a hyphen");
  return errs;
}

std::string FieldError::ToString() const {
  static const std::map<Type, const char*> kNames = {
      {Type::kRequired, "Required value"}, {Type::kInvalid, "Invalid value"},
      {Type::kDuplicate, "Duplicate value"}, {Type::kNotSupported, "Unsupported value"},
      {Type::kNotFound, "Not found"}, {Type::kForbidden, "Forbidden"}, {Type::kTooLong, "Too long"}};
  std::string s = field + ": " + kNames.at(type);
  bool with_value = type != Type::kRequired && type != Type::kForbidden && type != Type::kTooLong;
  if (with_value) s += ": " + bad_value;
  if (!detail.empty()) s += ": " + detail;
  return s;
}

ErrorList ValidatePod(const Pod& pod) {
  Errors e;
  ValidateObjectMeta(pod.metadata, e);
  const PodSpec& s = pod.spec;
  ValidateVolumes(s.volumes, e);
  std::set<std::string> volumes;
  for (const auto& v : s.volumes) volumes.insert(v.name);

  // Containers: names unique across regular and init containers.
  if (s.containers.empty()) e.Required("spec.containers");
  std::set<std::string> names;
  for (size_t i = 0; i < s.containers.size(); ++i) {
    std::string p = Idx("spec.containers", i);
    ValidateContainer(s.containers[i], p, false, volumes, e);
    if (!s.containers[i].name.empty() && !names.insert(s.containers[i].name).second) {
      e.Duplicate(p + ".name", s.containers[i].name);
    }
  }
  for (size_t i = 0; i < s.initContainers.size(); ++i) {
    std::string p = Idx("spec.initContainers", i);
    ValidateContainer(s.initContainers[i], p, true, volumes, e);
    if (!s.initContainers[i].name.empty() && !names.insert(s.initContainers[i].name).second) {
      e.Duplicate(p + ".name", s.initContainers[i].name);
    }
  }
  // Host ports unique across the pod's containers.
  std::set<std::string> host_ports;
  for (size_t i = 0; i < s.containers.size(); ++i) {
    for (size_t j = 0; j < s.containers[i].ports.size(); ++j) {
      const ContainerPort& port = s.containers[i].ports[j];
      if (port.hostPort == 0) continue;
      std::string key = absl::StrCat(port.protocol, "/", port.hostIP, "/", port.hostPort);
      if (!host_ports.insert(key).second) {
        e.Duplicate(Idx(Idx("spec.containers", i) + ".ports", j) + ".hostPort", key);
      }
    }
  }
  if (s.hostNetwork) {
    for (auto [list, path] : {std::pair{&s.containers, "spec.containers"},
                              std::pair{&s.initContainers, "spec.initContainers"}}) {
      for (size_t i = 0; i < list->size(); ++i) {
        for (size_t j = 0; j < (*list)[i].ports.size(); ++j) {
          const ContainerPort& port = (*list)[i].ports[j];
          if (port.hostPort != port.containerPort) {
            e.Invalid(Idx(Idx(path, i) + ".ports", j) + ".hostPort", port.hostPort,
                      "must match `containerPort` when `hostNetwork` is true");
          }
        }
      }
    }
  }
  e.Enum("spec.restartPolicy", s.restartPolicy, {"Always", "OnFailure", "Never"});
  e.Enum("spec.dnsPolicy", s.dnsPolicy, {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"});
  if (s.dnsPolicy == "None" && !s.dnsConfig) {
    e.Required("spec.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None");
  }
  ValidateLabels(s.nodeSelector, "spec.nodeSelector", e);
  if (!s.serviceAccountName.empty()) {
    e.Each("spec.serviceAccountName", s.serviceAccountName, IsDNS1123Subdomain(s.serviceAccountName));
  }
  if (!s.nodeName.empty()) e.Each("spec.nodeName", s.nodeName, IsDNS1123Subdomain(s.nodeName));
  if (!s.hostname.empty()) e.Each("spec.hostname", s.hostname, IsDNS1123Label(s.hostname));
  if (!s.subdomain.empty()) e.Each("spec.subdomain", s.subdomain, IsDNS1123Label(s.subdomain));
  if (s.terminationGracePeriodSeconds) {
    e.NonNegative("spec.terminationGracePeriodSeconds", *s.terminationGracePeriodSeconds);
  }
  if (s.activeDeadlineSeconds &&
      (*s.activeDeadlineSeconds < 1 || *s.activeDeadlineSeconds > std::numeric_limits<int32_t>::max())) {
    e.Invalid("spec.activeDeadlineSeconds", *s.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive");
  }
  if (s.securityContext) {
    ValidateSecurityContextIds(s.securityContext->runAsUser, s.securityContext->runAsGroup, "spec.securityContext", e);
  }
  if (!s.priorityClassName.empty()) {
    e.Each("spec.priorityClassName", s.priorityClassName, IsDNS1123Subdomain(s.priorityClassName));
  }
  for (size_t i = 0; i < s.tolerations.size(); ++i) {
    const Toleration& t = s.tolerations[i];
    std::string tp = Idx("spec.tolerations", i);
    if (!t.key.empty()) e.Each(tp + ".key", t.key, IsQualifiedName(t.key));
    if (!t.operator_.empty() && t.operator_ != "Equal" && t.operator_ != "Exists") {
      e.NotSupported(tp + ".operator", t.operator_, {"Equal", "Exists"});
    }
    if (t.operator_ == "Exists" && !t.value.empty()) {
      e.Invalid(tp + ".operator", t.operator_, "value must be empty when `operator` is 'Exists'");
    }
    if (!t.effect.empty() && t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute") {
      e.NotSupported(tp + ".effect", t.effect, {"NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
  }
  for (size_t i = 0; i < s.hostAliases.size(); ++i) {
    const HostAlias& h = s.hostAliases[i];
    std::string hp = Idx("spec.hostAliases", i);
    if (!ValidIP(h.ip)) e.Invalid(hp + ".ip", h.ip, "must be valid IP address");
    for (size_t j = 0; j < h.hostnames.size(); ++j) {
      e.Each(Idx(hp + ".hostnames", j), h.hostnames[j], IsDNS1123Subdomain(h.hostnames[j]));
    }
  }
  for (size_t i = 0; i < s.readinessGates.size(); ++i) {
    e.Each(Idx("spec.readinessGates", i) + ".conditionType", s.readinessGates[i].conditionType,
           IsQualifiedName(s.readinessGates[i].conditionType));
  }
  if (s.os && s.os->name != "linux" && s.os->name != "windows") {
    e.NotSupported("spec.os.name", s.os->name, {"linux", "windows"});
  }
  return e.list;
}

absl::Status ValidatePodStatus(const Pod& pod) {
  ErrorList errs = ValidatePod(pod);
  if (errs.empty()) return absl::OkStatus();
  std::vector<std::string> msgs;
  for (const auto& err : errs) msgs.push_back(err.ToString());
  std::string body = msgs.size() == 1 ? msgs[0] : "[" + absl::StrJoin(msgs, ", ") + "]";
  return absl::InvalidArgumentError(absl::StrCat("Pod \"", pod.metadata.name, "\" is invalid: ", body));
}

}  // namespace berth::k8s
