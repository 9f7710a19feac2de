// The scale and binding subresources.
#include "controlplane/apiserver/rest_handler.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "api/k8s/codec.h"
#include "api/k8s/patch/patch.h"
#include "controlplane/apiserver/object_meta.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

std::string ScaleSelector(const json& obj) {
  std::vector<std::string> parts;
  const json& sel = obj.value("spec", json::object()).value("selector", json::object());
  if (sel.is_object()) {
    const json match_labels = sel.value("matchLabels", json::object());  // begin() and end() of one copy
    for (auto it = match_labels.begin(); it != match_labels.end(); ++it) {
      if (it.value().is_string()) parts.push_back(absl::StrCat(it.key(), "=", it.value().get<std::string>()));
    }
  }
  return absl::StrJoin(parts, ",");
}

json ToScale(const json& obj) {
  const json& meta = obj.value("metadata", json::object());
  json scale_meta = json::object();
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (meta.contains(f)) scale_meta[f] = meta[f];
  }
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", scale_meta},
          {"spec", {{"replicas", obj.value("spec", json::object()).value("replicas", 0)}}},
          {"status", {{"replicas", obj.value("status", json::object()).value("replicas", 0)},
                      {"selector", ScaleSelector(obj)}}}};
}

}  // namespace

void RestHandler::Scale(const RestRequest& r, ResourceStorage* storage) {
  const std::string& verb = r.info.verb;
  if (verb == "get") {
    Result<json> obj = storage->Get(r.info.namespace_, r.info.name);
    if (!obj.ok()) return WriteError(r.writer, obj.error());
    return WriteObject(r.writer, 200, ToScale(*obj), r.response_type);
  }
  if (verb != "update" && verb != "patch") return WriteError(r.writer, MethodNotAllowedError(r.http.method, r.info.path));
  Result<WriteParams> write = ParseWrite(r);
  if (!write.ok()) return WriteError(r.writer, write.error());
  json body;
  std::string media = MediaTypeOf(r.http.Header("content-type"));
  if (verb == "update") {
    Result<json> decoded = DecodeBody(r.http);
    if (!decoded.ok()) return WriteError(r.writer, decoded.error());
    body = std::move(*decoded);
    if (auto bad = CheckTypeMeta(body, storage->kind(), "Scale", "autoscaling/v1")) return WriteError(r.writer, *bad);
  } else if (!IsPatchType(media) || media == "application/apply-patch+yaml") {
    return WriteError(r.writer, UnsupportedMediaTypeError(media));
  }
  Result<json> updated = storage->Update(
      r.info.namespace_, r.info.name, WritePart::kMain,
      [&](const json& current) -> Result<json> {
        json scale = body;
        if (verb == "patch") {
          Result<json> patched = ApplyPatch(media == "application/strategic-merge-patch+json"
                                                ? "application/merge-patch+json"
                                                : media,
                                            r.http.body, ToScale(current), storage->kind());
          if (!patched.ok()) return patched;
          scale = std::move(*patched);
        }
        const json& spec = scale.value("spec", json::object());
        if (!spec.contains("replicas") || !spec["replicas"].is_number_integer() ||
            spec["replicas"].get<int64_t>() < 0) {
          return InvalidError(storage->Target(r.info.name),
                              {{"FieldValueInvalid", "spec.replicas",
                                absl::StrCat("Invalid value: ", spec.value("replicas", json()).dump(),
                                             ": must be greater than or equal to 0")}});
        }
        json obj = current;
        std::string rv = MetaString(scale, "resourceVersion");
        if (rv.empty()) obj["metadata"].erase("resourceVersion"); else obj["metadata"]["resourceVersion"] = rv;
        obj["spec"]["replicas"] = spec["replicas"];
        return obj;
      },
      write->options);
  if (!updated.ok()) return WriteError(r.writer, updated.error());
  WriteObject(r.writer, 200, ToScale(*updated), r.response_type);
}

void RestHandler::Bind(const RestRequest& r, ResourceStorage* storage) {
  if (r.info.verb != "create") return WriteError(r.writer, MethodNotAllowedError(r.http.method, r.info.path));
  Result<WriteParams> write = ParseWrite(r);
  if (!write.ok()) return WriteError(r.writer, write.error());
  Result<json> body = DecodeBody(r.http);
  if (!body.ok()) return WriteError(r.writer, body.error());
  if (auto bad = CheckTypeMeta(*body, storage->kind(), "Binding", "v1")) return WriteError(r.writer, *bad);
  std::string node = body->value("target", json::object()).value("name", "");
  if (node.empty()) {
    return WriteError(r.writer, InvalidError(ErrorTarget{"", "bindings", "Binding", r.info.name},
                                             {{"FieldValueRequired", "target.name", "Required value"}}));
  }
  std::string body_name = MetaString(*body, "name");
  if (!body_name.empty() && body_name != r.info.name) {
    return WriteError(r.writer, BadRequestError(absl::StrCat("the name of the object (", body_name,
                                                             ") does not match the name on the URL (",
                                                             r.info.name, ")")));
  }
  Result<json> bound = storage->Update(
      r.info.namespace_, r.info.name, WritePart::kAll,
      [&](const json& current) -> Result<json> {
        json obj = current;
        obj["metadata"].erase("resourceVersion");
        if (!MetaString(obj, "deletionTimestamp").empty()) {
          return ConflictError(storage->Target(r.info.name), "pod is being deleted, cannot be assigned to a host");
        }
        std::string assigned = obj.value("spec", json::object()).value("nodeName", "");
        if (!assigned.empty()) {
          return ConflictError(storage->Target(r.info.name),
                               absl::StrCat("pod ", r.info.name, " is already assigned to node \"", assigned, "\""));
        }
        obj["spec"]["nodeName"] = node;
        json& conditions = obj["status"]["conditions"];
        if (!conditions.is_array()) conditions = json::array();
        json scheduled = {{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                          {"lastTransitionTime", NowRfc3339()}};
        bool replaced = false;
        for (auto& c : conditions) {
          if (c.value("type", "") == "PodScheduled") {
            c = scheduled;
            replaced = true;
          }
        }
        if (!replaced) conditions.push_back(scheduled);
        return obj;
      },
      write->options);
  if (!bound.ok()) return WriteError(r.writer, bound.error());
  WriteObject(r.writer, 201, SuccessStatus(201), r.response_type);
}

}  // namespace berth::apiserver
