#include "controlplane/apiserver/protobuf_body.h"

#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controlplane/apiserver/object_meta.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

// The subset of k8s.io/api generated.proto berth decodes: field numbers and
// JSON names.
enum class Kind { kString, kBytes, kInt, kBool, kMessage, kStringMap, kBytesMap, kTime, kStringList };

struct Message;
struct Field {
  int number;
  const char* name;
  Kind kind;
  const Message* message = nullptr;
};
struct Message {
  std::vector<Field> fields;
};

const Message kTypeMeta{{{1, "apiVersion", Kind::kString}, {2, "kind", Kind::kString}}};
const Message kUnknown{{{1, "typeMeta", Kind::kMessage, &kTypeMeta},
                        {2, "raw", Kind::kBytes},
                        {3, "contentEncoding", Kind::kString},
                        {4, "contentType", Kind::kString}}};
const Message kObjectMeta{{{1, "name", Kind::kString},
                           {2, "generateName", Kind::kString},
                           {3, "namespace", Kind::kString},
                           {5, "uid", Kind::kString},
                           {6, "resourceVersion", Kind::kString},
                           {7, "generation", Kind::kInt},
                           {8, "creationTimestamp", Kind::kTime},
                           {11, "labels", Kind::kStringMap},
                           {12, "annotations", Kind::kStringMap},
                           {14, "finalizers", Kind::kStringList}}};
const Message kConfigMap{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                          {2, "data", Kind::kStringMap},
                          {3, "binaryData", Kind::kBytesMap},
                          {4, "immutable", Kind::kBool}}};
const Message kSecret{{{1, "metadata", Kind::kMessage, &kObjectMeta},
                       {2, "data", Kind::kBytesMap},
                       {3, "type", Kind::kString},
                       {4, "stringData", Kind::kStringMap},
                       {5, "immutable", Kind::kBool}}};
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

const Message* MessageFor(const std::string& api_version, const std::string& kind) {
  if (api_version == "v1" && kind == "ConfigMap") return &kConfigMap;
  if (api_version == "v1" && kind == "Secret") return &kSecret;
  if (api_version == "v1" && kind == "Namespace") return &kNamespace;
  if (api_version == "authorization.k8s.io/v1" && kind == "SelfSubjectAccessReview") {
    return &kSelfSubjectAccessReview;
  }
  return nullptr;
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

absl::StatusOr<json> Decode(absl::string_view data, const Message& message);

absl::Status Malformed(const char* field) {
  return absl::InvalidArgumentError(absl::StrCat("malformed protobuf body at field \"", field, "\""));
}

// A map entry {1: key, 2: value}.
absl::Status MapEntry(absl::string_view entry, bool bytes_value, json* map, const char* name) {
  Reader r(entry);
  std::string key, value;
  while (!r.done()) {
    uint64_t tag;
    absl::string_view s;
    if (!r.Varint(&tag)) return Malformed(name);
    if ((tag & 7) != 2) {
      if (!r.Skip(static_cast<int>(tag & 7))) return Malformed(name);
      continue;
    }
    if (!r.Bytes(&s)) return Malformed(name);
    if ((tag >> 3) == 1) key = std::string(s);
    if ((tag >> 3) == 2) value = std::string(s);
  }
  (*map)[key] = bytes_value ? absl::Base64Escape(value) : value;
  return absl::OkStatus();
}

absl::StatusOr<json> Decode(absl::string_view data, const Message& message) {
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
      if (!r.Skip(wire)) return absl::InvalidArgumentError("malformed protobuf body: bad field");
      continue;
    }
    if (wire == 0) {
      uint64_t v;
      if (!r.Varint(&v)) return Malformed(field->name);
      if (field->kind == Kind::kBool) out[field->name] = v != 0;
      else out[field->name] = static_cast<int64_t>(v);
      continue;
    }
    absl::string_view bytes;
    if (wire != 2 || !r.Bytes(&bytes)) return Malformed(field->name);
    switch (field->kind) {
      case Kind::kString:
        out[field->name] = std::string(bytes);
        break;
      case Kind::kBytes:
        out[field->name] = std::string(bytes);  // raw, decoded further by the caller
        break;
      case Kind::kStringList:
        out[field->name].push_back(std::string(bytes));
        break;
      case Kind::kStringMap:
      case Kind::kBytesMap: {
        if (!out.contains(field->name)) out[field->name] = json::object();
        absl::Status s = MapEntry(bytes, field->kind == Kind::kBytesMap, &out[field->name], field->name);
        if (!s.ok()) return s;
        break;
      }
      case Kind::kTime: {
        Reader t(bytes);
        int64_t seconds = 0;
        while (!t.done()) {
          uint64_t ttag, v;
          if (!t.Varint(&ttag) || (ttag & 7) != 0 || !t.Varint(&v)) return Malformed(field->name);
          if ((ttag >> 3) == 1) seconds = static_cast<int64_t>(v);
        }
        out[field->name] = FormatRfc3339(seconds);
        break;
      }
      case Kind::kMessage: {
        auto nested = Decode(bytes, *field->message);
        if (!nested.ok()) return nested.status();
        out[field->name] = std::move(*nested);
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
  auto unknown = Decode(body.substr(4), kUnknown);
  if (!unknown.ok()) return unknown.status();
  std::string api_version = (*unknown)["typeMeta"].value("apiVersion", "");
  std::string kind = (*unknown)["typeMeta"].value("kind", "");
  const Message* message = MessageFor(api_version, kind);
  if (message == nullptr) {
    return absl::UnimplementedError(absl::StrCat("berth cannot decode ", api_version, " ", kind,
                                                 " from protobuf yet; send it as JSON (kubectl create -f)"));
  }
  auto obj = Decode(unknown->value("raw", ""), *message);
  if (!obj.ok()) return obj.status();
  json out = {{"apiVersion", api_version}, {"kind", kind}};
  out.update(*obj);
  return out;
}

}  // namespace berth::apiserver
