#include "controlplane/apiserver/protobuf_body.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controlplane/apiserver/object_meta.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

// The subset of k8s.io/api generated.proto berth decodes: field numbers and
// JSON names. A field not listed here is refused (Unimplemented) when it
// carries a value, so nothing a client sends is dropped without a word;
// Go's encoder writes every non-pointer field, so zero values of unlisted
// fields are accepted and ignored.
enum class Kind {
  kString, kBytes, kInt, kBool, kMessage, kMessageList, kStringMap, kBytesMap, kQuantityMap, kTime,
  kStringList, kIntOrString
};

// Scalars equal to their zero value are left out of the JSON as Go's
// `omitempty` does; kKeepZero marks pointer fields and fields without
// omitempty, whose explicit zero means something (replicas: 0).
constexpr bool kKeepZero = true;

struct Message;
struct Field {
  int number;
  const char* name;
  Kind kind;
  const Message* message = nullptr;
  bool keep_zero = false;
};
struct Message {
  std::vector<Field> fields;
};

const Message kTypeMeta{{{1, "apiVersion", Kind::kString}, {2, "kind", Kind::kString}}};
const Message kUnknown{{{1, "typeMeta", Kind::kMessage, &kTypeMeta},
                        {2, "raw", Kind::kBytes},
                        {3, "contentEncoding", Kind::kString},
                        {4, "contentType", Kind::kString}}};
const Message kOwnerReference{{{1, "kind", Kind::kString},
                               {3, "name", Kind::kString},
                               {4, "uid", Kind::kString},
                               {5, "apiVersion", Kind::kString},
                               {6, "controller", Kind::kBool, nullptr, kKeepZero},
                               {7, "blockOwnerDeletion", Kind::kBool, nullptr, kKeepZero}}};
const Message kObjectMeta{{{1, "name", Kind::kString},
                           {2, "generateName", Kind::kString},
                           {3, "namespace", Kind::kString},
                           {5, "uid", Kind::kString},
                           {6, "resourceVersion", Kind::kString},
                           {7, "generation", Kind::kInt},
                           {8, "creationTimestamp", Kind::kTime},
                           {11, "labels", Kind::kStringMap},
                           {12, "annotations", Kind::kStringMap},
                           {13, "ownerReferences", Kind::kMessageList, &kOwnerReference},
                           {14, "finalizers", Kind::kStringList}}};
const Message kConfigMap{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                          {2, "data", Kind::kStringMap},
                          {3, "binaryData", Kind::kBytesMap},
                          {4, "immutable", Kind::kBool, nullptr, kKeepZero}}};
const Message kSecret{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                       {2, "data", Kind::kBytesMap},
                       {3, "type", Kind::kString},
                       {4, "stringData", Kind::kStringMap},
                       {5, "immutable", Kind::kBool, nullptr, kKeepZero}}};
const Message kNamespaceSpec{{{1, "finalizers", Kind::kStringList}}};
const Message kNamespace{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                          {2, "spec", Kind::kMessage, &kNamespaceSpec}}};
const Message kResourceAttributes{{{1, "namespace", Kind::kString},
                                   {2, "verb", Kind::kString},
                                   {3, "group", Kind::kString},
                                   {4, "version", Kind::kString},
                                   {5, "resource", Kind::kString},
                                   {6, "subresource", Kind::kString},
                                   {7, "name", Kind::kString}}};
const Message kNonResourceAttributes{{{1, "path", Kind::kString}, {2, "verb", Kind::kString}}};
const Message kSelfSubjectAccessReviewSpec{{{1, "resourceAttributes", Kind::kMessage, &kResourceAttributes},
                                            {2, "nonResourceAttributes", Kind::kMessage, &kNonResourceAttributes}}};
const Message kSelfSubjectAccessReview{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                                        {2, "spec", Kind::kMessage, &kSelfSubjectAccessReviewSpec}}};

// core/v1 Pod and what a pod template holds.
const Message kContainerPort{{{1, "name", Kind::kString},
                              {2, "hostPort", Kind::kInt},
                              {3, "containerPort", Kind::kInt, nullptr, kKeepZero},
                              {4, "protocol", Kind::kString},
                              {5, "hostIP", Kind::kString}}};
const Message kEnvVar{{{1, "name", Kind::kString}, {2, "value", Kind::kString}}};
const Message kResourceRequirements{{{1, "limits", Kind::kQuantityMap}, {2, "requests", Kind::kQuantityMap}}};
const Message kCapabilities{{{1, "add", Kind::kStringList}, {2, "drop", Kind::kStringList}}};
const Message kSecurityContext{{{1, "capabilities", Kind::kMessage, &kCapabilities},
                                {2, "privileged", Kind::kBool, nullptr, kKeepZero},
                                {4, "runAsUser", Kind::kInt, nullptr, kKeepZero},
                                {5, "runAsNonRoot", Kind::kBool, nullptr, kKeepZero},
                                {6, "readOnlyRootFilesystem", Kind::kBool, nullptr, kKeepZero},
                                {7, "allowPrivilegeEscalation", Kind::kBool, nullptr, kKeepZero},
                                {8, "runAsGroup", Kind::kInt, nullptr, kKeepZero},
                                {9, "procMount", Kind::kString, nullptr, kKeepZero}}};
const Message kContainer{{{1, "name", Kind::kString},
                          {2, "image", Kind::kString},
                          {3, "command", Kind::kStringList},
                          {4, "args", Kind::kStringList},
                          {5, "workingDir", Kind::kString},
                          {6, "ports", Kind::kMessageList, &kContainerPort},
                          {7, "env", Kind::kMessageList, &kEnvVar},
                          {8, "resources", Kind::kMessage, &kResourceRequirements},
                          {13, "terminationMessagePath", Kind::kString},
                          {14, "imagePullPolicy", Kind::kString},
                          {15, "securityContext", Kind::kMessage, &kSecurityContext},
                          {16, "stdin", Kind::kBool},
                          {17, "stdinOnce", Kind::kBool},
                          {18, "tty", Kind::kBool},
                          {20, "terminationMessagePolicy", Kind::kString}}};
const Message kLocalObjectReference{{{1, "name", Kind::kString}}};
const Message kToleration{{{1, "key", Kind::kString},
                           {2, "operator", Kind::kString},
                           {3, "value", Kind::kString},
                           {4, "effect", Kind::kString},
                           {5, "tolerationSeconds", Kind::kInt, nullptr, kKeepZero}}};
const Message kPodSpec{{{2, "containers", Kind::kMessageList, &kContainer},
                        {3, "restartPolicy", Kind::kString},
                        {4, "terminationGracePeriodSeconds", Kind::kInt, nullptr, kKeepZero},
                        {5, "activeDeadlineSeconds", Kind::kInt, nullptr, kKeepZero},
                        {6, "dnsPolicy", Kind::kString},
                        {7, "nodeSelector", Kind::kStringMap},
                        {8, "serviceAccountName", Kind::kString},
                        {9, "serviceAccount", Kind::kString},
                        {10, "nodeName", Kind::kString},
                        {11, "hostNetwork", Kind::kBool},
                        {12, "hostPID", Kind::kBool},
                        {13, "hostIPC", Kind::kBool},
                        {15, "imagePullSecrets", Kind::kMessageList, &kLocalObjectReference},
                        {16, "hostname", Kind::kString},
                        {17, "subdomain", Kind::kString},
                        {19, "schedulerName", Kind::kString},
                        {20, "initContainers", Kind::kMessageList, &kContainer},
                        {21, "automountServiceAccountToken", Kind::kBool, nullptr, kKeepZero},
                        {22, "tolerations", Kind::kMessageList, &kToleration},
                        {24, "priorityClassName", Kind::kString},
                        {25, "priority", Kind::kInt, nullptr, kKeepZero},
                        {30, "enableServiceLinks", Kind::kBool, nullptr, kKeepZero}}};
const Message kPod{{{1, "metadata", Kind::kMessage, &kObjectMeta}, {2, "spec", Kind::kMessage, &kPodSpec}}};
const Message kPodTemplateSpec{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                                {2, "spec", Kind::kMessage, &kPodSpec}}};

// apps/v1 Deployment.
const Message kLabelSelectorRequirement{{{1, "key", Kind::kString},
                                         {2, "operator", Kind::kString},
                                         {3, "values", Kind::kStringList}}};
const Message kLabelSelector{{{1, "matchLabels", Kind::kStringMap},
                              {2, "matchExpressions", Kind::kMessageList, &kLabelSelectorRequirement}}};
const Message kRollingUpdateDeployment{{{1, "maxUnavailable", Kind::kIntOrString, nullptr, kKeepZero},
                                        {2, "maxSurge", Kind::kIntOrString, nullptr, kKeepZero}}};
const Message kDeploymentStrategy{{{1, "type", Kind::kString},
                                   {2, "rollingUpdate", Kind::kMessage, &kRollingUpdateDeployment}}};
const Message kDeploymentSpec{{{1, "replicas", Kind::kInt, nullptr, kKeepZero},
                               {2, "selector", Kind::kMessage, &kLabelSelector},
                               {3, "template", Kind::kMessage, &kPodTemplateSpec},
                               {4, "strategy", Kind::kMessage, &kDeploymentStrategy},
                               {5, "minReadySeconds", Kind::kInt},
                               {6, "revisionHistoryLimit", Kind::kInt, nullptr, kKeepZero},
                               {7, "paused", Kind::kBool},
                               {9, "progressDeadlineSeconds", Kind::kInt, nullptr, kKeepZero}}};
const Message kDeployment{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                           {2, "spec", Kind::kMessage, &kDeploymentSpec}}};

// batch/v1 Job (kubectl create job).
const Message kJobSpec{{{1, "parallelism", Kind::kInt, nullptr, kKeepZero},
                        {2, "completions", Kind::kInt, nullptr, kKeepZero},
                        {3, "activeDeadlineSeconds", Kind::kInt, nullptr, kKeepZero},
                        {4, "selector", Kind::kMessage, &kLabelSelector},
                        {5, "manualSelector", Kind::kBool, nullptr, kKeepZero},
                        {6, "template", Kind::kMessage, &kPodTemplateSpec},
                        {7, "backoffLimit", Kind::kInt, nullptr, kKeepZero},
                        {8, "ttlSecondsAfterFinished", Kind::kInt, nullptr, kKeepZero},
                        {9, "completionMode", Kind::kString, nullptr, kKeepZero},
                        {10, "suspend", Kind::kBool, nullptr, kKeepZero}}};
const Message kJob{{{1, "metadata", Kind::kMessage, &kObjectMeta}, {2, "spec", Kind::kMessage, &kJobSpec}}};

// core/v1 ServiceAccount (kubectl create serviceaccount).
const Message kObjectReference{{{1, "kind", Kind::kString},
                                {2, "namespace", Kind::kString},
                                {3, "name", Kind::kString},
                                {4, "uid", Kind::kString},
                                {5, "apiVersion", Kind::kString},
                                {6, "resourceVersion", Kind::kString},
                                {7, "fieldPath", Kind::kString}}};
const Message kServiceAccount{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                               {2, "secrets", Kind::kMessageList, &kObjectReference},
                               {3, "imagePullSecrets", Kind::kMessageList, &kLocalObjectReference},
                               {4, "automountServiceAccountToken", Kind::kBool, nullptr, kKeepZero}}};

// core/v1 Service.
const Message kServicePort{{{1, "name", Kind::kString},
                            {2, "protocol", Kind::kString},
                            {3, "port", Kind::kInt, nullptr, kKeepZero},
                            {4, "targetPort", Kind::kIntOrString},
                            {5, "nodePort", Kind::kInt},
                            {6, "appProtocol", Kind::kString, nullptr, kKeepZero}}};
const Message kServiceSpec{{{1, "ports", Kind::kMessageList, &kServicePort},
                            {2, "selector", Kind::kStringMap},
                            {3, "clusterIP", Kind::kString},
                            {4, "type", Kind::kString},
                            {5, "externalIPs", Kind::kStringList},
                            {7, "sessionAffinity", Kind::kString},
                            {8, "loadBalancerIP", Kind::kString},
                            {9, "loadBalancerSourceRanges", Kind::kStringList},
                            {10, "externalName", Kind::kString},
                            {11, "externalTrafficPolicy", Kind::kString},
                            {12, "healthCheckNodePort", Kind::kInt},
                            {13, "publishNotReadyAddresses", Kind::kBool},
                            {17, "ipFamilyPolicy", Kind::kString, nullptr, kKeepZero},
                            {18, "clusterIPs", Kind::kStringList},
                            {19, "ipFamilies", Kind::kStringList},
                            {20, "allocateLoadBalancerNodePorts", Kind::kBool, nullptr, kKeepZero},
                            {21, "loadBalancerClass", Kind::kString, nullptr, kKeepZero},
                            {22, "internalTrafficPolicy", Kind::kString, nullptr, kKeepZero}}};
const Message kService{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                        {2, "spec", Kind::kMessage, &kServiceSpec}}};

const Message* MessageFor(const std::string& api_version, const std::string& kind) {
  static const std::map<std::pair<std::string, std::string>, const Message*> kByType = {
      {{"v1", "ConfigMap"}, &kConfigMap},
      {{"v1", "Secret"}, &kSecret},
      {{"v1", "Namespace"}, &kNamespace},
      {{"v1", "Pod"}, &kPod},
      {{"v1", "Service"}, &kService},
      {{"v1", "ServiceAccount"}, &kServiceAccount},
      {{"batch/v1", "Job"}, &kJob},
      {{"apps/v1", "Deployment"}, &kDeployment},
      {{"authorization.k8s.io/v1", "SelfSubjectAccessReview"}, &kSelfSubjectAccessReview},
  };
  auto it = kByType.find({api_version, kind});
  return it == kByType.end() ? nullptr : it->second;
}

class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(absl::string_view* out) {
    uint64_t len;
    if (!Varint(&len) || len > data_.size() - pos_) return false;
    *out = data_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  bool Skip(int wire_type) {
    uint64_t v;
    absl::string_view s;
    switch (wire_type) {
      case 0: return Varint(&v);
      case 1: if (data_.size() - pos_ < 8) return false; pos_ += 8; return true;
      case 2: return Bytes(&s);
      case 5: if (data_.size() - pos_ < 4) return false; pos_ += 4; return true;
      default: return false;
    }
  }

 private:
  absl::string_view data_;
  size_t pos_ = 0;
};

absl::Status Malformed(const std::string& path) {
  return absl::InvalidArgumentError(absl::StrCat("malformed protobuf body at field \"", path, "\""));
}

std::string Join(const std::string& path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

// Whether an unlisted field's value is its zero value: varint 0, empty
// bytes, or a message whose fields are all zero (Go writes `status: {}` of
// a new object as such a message).
bool IsZero(int wire, absl::string_view bytes, uint64_t varint, int depth = 0) {
  if (wire == 0) return varint == 0;
  if (wire != 2) return false;
  if (bytes.empty()) return true;
  if (depth > 8) return false;
  Reader r(bytes);
  while (!r.done()) {
    uint64_t tag, v = 0;
    absl::string_view s;
    if (!r.Varint(&tag)) return false;
    int w = static_cast<int>(tag & 7);
    if (w == 0 && !r.Varint(&v)) return false;
    if (w == 2 && !r.Bytes(&s)) return false;
    if ((w != 0 && w != 2) || !IsZero(w, s, v, depth + 1)) return false;
  }
  return true;
}

// The last value of each field of a flat message (map entries and the
// wrapper messages), varints and length-delimited ones apart.
struct FlatFields {
  std::map<int, uint64_t> varints;
  std::map<int, std::string> bytes;
};
absl::StatusOr<FlatFields> ReadFlat(absl::string_view data, const std::string& path) {
  Reader r(data);
  FlatFields out;
  while (!r.done()) {
    uint64_t tag, v;
    absl::string_view s;
    if (!r.Varint(&tag)) return Malformed(path);
    int number = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    if (wire == 0) {
      if (!r.Varint(&v)) return Malformed(path);
      out.varints[number] = v;
    } else if (wire == 2) {
      if (!r.Bytes(&s)) return Malformed(path);
      out.bytes[number] = std::string(s);
    } else if (!r.Skip(wire)) {
      return Malformed(path);
    }
  }
  return out;
}

// IntOrString {1: type, 2: intVal, 3: strVal} as a JSON number or string.
absl::StatusOr<json> IntOrString(absl::string_view bytes, const std::string& path) {
  ASSIGN_OR_RETURN(FlatFields f, ReadFlat(bytes, path));
  if (f.varints[1] == 1) return json(f.bytes[3]);
  return json(static_cast<int64_t>(static_cast<int32_t>(f.varints[2])));
}

// A map entry {1: key, 2: value}; a Quantity value is {1: string}.
absl::Status MapEntry(absl::string_view entry, Kind kind, json* map, const std::string& path) {
  ASSIGN_OR_RETURN(FlatFields f, ReadFlat(entry, path));
  const std::string& key = f.bytes[1];
  const std::string& value = f.bytes[2];
  switch (kind) {
    case Kind::kBytesMap:
      (*map)[key] = absl::Base64Escape(value);
      break;
    case Kind::kQuantityMap: {
      ASSIGN_OR_RETURN(FlatFields quantity, ReadFlat(value, Join(path, key)));
      (*map)[key] = quantity.bytes[1];
      break;
    }
    default:
      (*map)[key] = value;
  }
  return absl::OkStatus();
}

absl::StatusOr<json> Decode(absl::string_view data, const Message& message, const std::string& path) {
  json out = json::object();
  Reader r(data);
  while (!r.done()) {
    uint64_t tag;
    if (!r.Varint(&tag)) return absl::InvalidArgumentError("malformed protobuf body: bad tag");
    int number = static_cast<int>(tag >> 3), wire = static_cast<int>(tag & 7);
    const Field* field = nullptr;
    for (const auto& f : message.fields) {
      if (f.number == number) field = &f;
    }
    if (field == nullptr) {
      uint64_t v = 0;
      absl::string_view s;
      bool read = wire == 0 ? r.Varint(&v) : wire == 2 ? r.Bytes(&s) : r.Skip(wire);
      if (!read) return absl::InvalidArgumentError("malformed protobuf body: bad field");
      if (IsZero(wire, s, v)) continue;
      return absl::UnimplementedError(absl::StrCat("field number ", number, " of \"",
                                                   path.empty() ? "(top level)" : path,
                                                   "\" has a value berth cannot decode"));
    }
    std::string field_path = Join(path, field->name);
    if (wire == 0) {
      uint64_t v;
      if (field->kind != Kind::kInt && field->kind != Kind::kBool) return Malformed(field_path);
      if (!r.Varint(&v)) return Malformed(field_path);
      if (v == 0 && !field->keep_zero) continue;
      if (field->kind == Kind::kBool) out[field->name] = v != 0;
      else out[field->name] = static_cast<int64_t>(v);
      continue;
    }
    absl::string_view bytes;
    bool scalar = field->kind == Kind::kInt || field->kind == Kind::kBool;
    if (wire != 2 || scalar || !r.Bytes(&bytes)) return Malformed(field_path);
    switch (field->kind) {
      case Kind::kString:
        if (!bytes.empty() || field->keep_zero) out[field->name] = std::string(bytes);
        break;
      case Kind::kBytes:
        out[field->name] = std::string(bytes);  // raw, decoded further by the caller
        break;
      case Kind::kStringList:
        out[field->name].push_back(std::string(bytes));
        break;
      case Kind::kStringMap:
      case Kind::kBytesMap:
      case Kind::kQuantityMap: {
        if (!out.contains(field->name)) out[field->name] = json::object();
        RETURN_IF_ERROR(MapEntry(bytes, field->kind, &out[field->name], field_path));
        break;
      }
      case Kind::kTime: {
        Reader t(bytes);
        int64_t seconds = 0;
        while (!t.done()) {
          uint64_t ttag, v;
          if (!t.Varint(&ttag) || (ttag & 7) != 0 || !t.Varint(&v)) return Malformed(field_path);
          if ((ttag >> 3) == 1) seconds = static_cast<int64_t>(v);
        }
        if (!bytes.empty()) out[field->name] = FormatRfc3339(seconds);  // empty: the zero time, null
        break;
      }
      case Kind::kIntOrString: {
        ASSIGN_OR_RETURN(json value, IntOrString(bytes, field_path));
        bool zero = (value.is_number() && value == 0) || (value.is_string() && value.empty());
        if (!zero || field->keep_zero) out[field->name] = std::move(value);
        break;
      }
      case Kind::kMessage:
      case Kind::kMessageList: {
        std::string item_path =
            field->kind == Kind::kMessageList ? absl::StrCat(field_path, "[", out[field->name].size(), "]")
                                              : field_path;
        ASSIGN_OR_RETURN(json nested, Decode(bytes, *field->message, item_path));
        if (field->kind == Kind::kMessage) out[field->name] = std::move(nested);
        else out[field->name].push_back(std::move(nested));
        break;
      }
      default:
        break;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<json> DecodeProtobufBody(absl::string_view body) {
  constexpr absl::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic) {
    return absl::InvalidArgumentError("protobuf body does not start with the \"k8s\\0\" magic");
  }
  auto unknown = Decode(body.substr(4), kUnknown, "");
  if (!unknown.ok()) return unknown.status();
  std::string api_version = (*unknown)["typeMeta"].value("apiVersion", "");
  std::string kind = (*unknown)["typeMeta"].value("kind", "");
  const Message* message = MessageFor(api_version, kind);
  if (message == nullptr) {
    return absl::UnimplementedError(absl::StrCat("berth cannot decode ", api_version, " ", kind,
                                                 " from protobuf yet; send it as JSON (kubectl create -f)"));
  }
  auto obj = Decode(unknown->value("raw", ""), *message, "");
  if (!obj.ok()) {
    if (obj.status().code() != absl::StatusCode::kUnimplemented) return obj.status();
    return absl::UnimplementedError(absl::StrCat("berth cannot decode ", api_version, " ", kind,
                                                 " from protobuf: ", obj.status().message(),
                                                 "; send it as JSON (kubectl create -f)"));
  }
  json out = {{"apiVersion", api_version}, {"kind", kind}};
  out.update(*obj);
  return out;
}

}  // namespace berth::apiserver
