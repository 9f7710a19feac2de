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

// The patched object; its resourceVersion is dropped unless the patch set one,
// so only a client-given version makes the write conditional.
Result<json> ApplyPatch(const std::string& media, const std::string& body, const json& current,
                        const k8s::kinds::KindInfo& kind) {
  Result<json> patch = ParseText(body, false);
  if (!patch.ok()) return patch.error();
  absl::StatusOr<json> patched;
  if (media == "application/json-patch+json") {
    if (!patch->is_array()) return BadRequestError("a JSON patch must be a JSON array of operations");
    patched = k8s::patch::ApplyJsonPatch(current, *patch);
  } else if (media == "application/merge-patch+json") {
    patched = k8s::patch::ApplyMergePatch(current, *patch);
  } else {
    patched = k8s::patch::ApplyStrategicMergePatch(current, *patch, kind);
  }
  if (!patched.ok()) {
    ApiError e = InvalidError(ErrorTarget{kind.group, kind.resource, kind.kind, MetaString(current, "name")}, {});
    e.message = std::string(patched.status().message());
    e.details.erase("causes");
    return e;
  }
  bool patch_sets_version = body.find("\"resourceVersion\"") != std::string::npos &&
                            MetaString(*patched, "resourceVersion") != MetaString(current, "resourceVersion");
  if (!patch_sets_version && patched->contains("metadata") && (*patched)["metadata"].is_object()) {
    (*patched)["metadata"].erase("resourceVersion");
  }
  return std::move(*patched);
}

bool IsPatchType(const std::string& media) {
  return media == "application/json-patch+json" || media == "application/merge-patch+json" ||
         media == "application/strategic-merge-patch+json" || media == "application/apply-patch+yaml";
}

void RestHandler::Patch(const RestRequest& r, ResourceStorage* storage) {
  Result<WriteParams> write = ParseWrite(r);
  if (!write.ok()) return WriteError(r.writer, write.error());
  std::string media = MediaTypeOf(r.http.Header("content-type"));
  if (!IsPatchType(media)) return WriteError(r.writer, UnsupportedMediaTypeError(media));
  const auto& kind = storage->kind();
  WritePart part = r.info.subresource == "status" ? WritePart::kStatus : WritePart::kMain;
  Headers warnings;
  if (media == "application/apply-patch+yaml") {
    if (QueryValue(r.query, "fieldManager").empty()) {
      return WriteError(r.writer, BadRequestError("PATCH, application/apply-patch+yaml requires fieldManager"));
    }
    Result<json> applied = ParseText(r.http.body, true);
    if (!applied.ok()) return WriteError(r.writer, applied.error());
    if (auto bad = CheckTypeMeta(*applied, kind)) return WriteError(r.writer, *bad);
    if (auto bad = CheckUnknownFields(*applied, kind, write->field_validation, &warnings)) {
      return WriteError(r.writer, *bad);
    }
    std::string force_text = QueryValue(r.query, "force");
    bool force = force_text == "true";
    std::string manager = write->options.field_manager;
    auto apply = [&](const json& live) -> Result<json> {
      auto result = k8s::patch::ServerSideApply(live, *applied, manager, force, kind);
      if (!result.ok()) {
        ApiError e = InvalidError(storage->Target(r.info.name), {});
        e.message = std::string(result.status().message());
        e.details.erase("causes");
        return e;
      }
      if (!result->conflicts.empty()) {
        std::vector<std::string> parts;
        json causes = json::array();
        for (const auto& c : result->conflicts) {
          parts.push_back(absl::StrCat("conflict with \"", c.manager, "\": ", c.field));
          causes.push_back({{"reason", "FieldManagerConflict"},
                            {"message", absl::StrCat("conflict with \"", c.manager, "\"")},
                            {"field", c.field}});
        }
        ApiError e = ConflictError(storage->Target(r.info.name));
        e.message = absl::StrCat("Apply failed with ", result->conflicts.size(), " conflict",
                                 result->conflicts.size() == 1 ? "" : "s", ": ", absl::StrJoin(parts, "\n"));
        e.details["causes"] = causes;
        return e;
      }
      json obj = std::move(result->object);
      if (obj.contains("metadata") && obj["metadata"].is_object() &&
          MetaString(*applied, "resourceVersion").empty()) {
        obj["metadata"].erase("resourceVersion");
      }
      return obj;
    };
    Result<json> existing = storage->Get(r.info.namespace_, r.info.name);
    if (!existing.ok() && existing.error().code == 404 && part == WritePart::kMain) {
      Result<json> obj = apply(json());
      if (!obj.ok()) return WriteError(r.writer, obj.error());
      if (kind.namespaced) {
        if (auto refused = namespaces_->AdmitCreate(r.info.namespace_, storage->Target(r.info.name))) {
          return WriteError(r.writer, *refused);
        }
      }
      std::string body_name = MetaString(*obj, "name");
      if (!body_name.empty() && body_name != r.info.name) {
        return WriteError(r.writer, BadRequestError(absl::StrCat("the name of the object (", body_name,
                                                                 ") does not match the name on the URL (",
                                                                 r.info.name, ")")));
      }
      (*obj)["metadata"]["name"] = r.info.name;
      if (kind.group.empty() && kind.kind == "Namespace") NamespaceLifecycle::PrepareCreate(*obj);
      WriteOptions options = write->options;
      options.field_manager.clear();  // apply recorded its own managedFields
      Result<json> created = storage->Create(r.info.namespace_, std::move(*obj), options);
      if (!created.ok()) return WriteError(r.writer, created.error());
      return WriteObject(r.writer, 201, *created, r.response_type, warnings);
    }
    if (!existing.ok()) return WriteError(r.writer, existing.error());
    WriteOptions options = write->options;
    options.field_manager.clear();
    Result<json> updated = storage->Update(r.info.namespace_, r.info.name, part, apply, options);
    if (!updated.ok()) return WriteError(r.writer, updated.error());
    return WriteObject(r.writer, 200, *updated, r.response_type, warnings);
  }
  Result<json> updated = storage->Update(
      r.info.namespace_, r.info.name, part,
      [&](const json& current) -> Result<json> {
        Result<json> patched = ApplyPatch(media, r.http.body, current, kind);
        if (!patched.ok()) return patched;
        if (auto bad = CheckUnknownFields(*patched, kind, write->field_validation, &warnings)) return *bad;
        return patched;
      },
      write->options);
  if (!updated.ok()) return WriteError(r.writer, updated.error());
  WriteObject(r.writer, 200, *updated, r.response_type, warnings);
}

}  // namespace berth::apiserver
