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

void RestHandler::Serve(const RestRequest& r, ResourceStorage* storage, WatchCache* cache) {
  const auto& info = r.info;
  const auto& kind = storage->kind();
  if (kind.namespaced && info.namespace_.empty() &&
      (info.verb == "create" || !info.name.empty())) {
    return WriteError(r.writer, NotFoundError(ErrorTarget{"", "", "", ""}));
  }
  if (!kind.namespaced && !info.namespace_.empty() && info.resource != "namespaces") {
    ApiError e = NotFoundError(ErrorTarget{});
    e.message = "the server could not find the requested resource";
    return WriteError(r.writer, e);
  }
  if (!info.subresource.empty()) {
    bool served = storage->HasSubresource(info.subresource);
    if (!served) {
      ApiError e = NotFoundError(ErrorTarget{});
      e.message = absl::StrCat("the server could not find the requested resource (", info.resource, "/",
                               info.subresource, ")");
      return WriteError(r.writer, e);
    }
    if (info.subresource == "scale") return Scale(r, storage);
    if (info.subresource == "binding") return Bind(r, storage);
    if (info.subresource != "status") {
      return WriteError(r.writer, ServiceUnavailableError(absl::StrCat(
                                      info.resource, "/", info.subresource,
                                      " is not served by berth yet (it proxies to the node's agent)")));
    }
    if (info.verb == "get") return Get(r, storage);
    if (info.verb == "update") return Update(r, storage);
    if (info.verb == "patch") return Patch(r, storage);
    return WriteError(r.writer, MethodNotAllowedError(r.http.method, info.path));
  }
  if (info.verb == "get") return Get(r, storage);
  if (info.verb == "list") return List(r, storage, cache);
  if (info.verb == "watch") return Watch(r, storage, cache);
  if (info.verb == "create") {
    if (!info.name.empty()) return WriteError(r.writer, MethodNotAllowedError(r.http.method, info.path));
    return Create(r, storage);
  }
  if (info.verb == "update") return Update(r, storage);
  if (info.verb == "patch") return Patch(r, storage);
  if (info.verb == "delete") return Delete(r, storage);
  if (info.verb == "deletecollection") return DeleteCollection(r, storage);
  WriteError(r.writer, MethodNotAllowedError(r.http.method, info.path));
}

void RestHandler::Get(const RestRequest& r, ResourceStorage* storage) {
  Result<json> obj = storage->Get(r.info.namespace_, r.info.name);
  if (!obj.ok()) return WriteError(r.writer, obj.error());
  if (r.response_type == MediaType::kTable) {
    std::string include = QueryValue(r.query, "includeObject");
    json meta = {{"resourceVersion", MetaString(*obj, "resourceVersion")}};
    return WriteObject(r.writer, 200, ToTable(storage->kind(), {&obj.value()}, include, meta), MediaType::kJson);
  }
  WriteObject(r.writer, 200, *obj, r.response_type);
}

bool RestHandler::ListFromCache(const RestRequest& r, ResourceStorage* storage, WatchCache* cache,
                                const ListQuery& query) {
  // As kube-apiserver: resourceVersion "" must be consistent (the store);
  // "0" is any state (limit is not applied); NotOlderThan N needs the cache
  // at N or later; Exact and continue tokens go to the store.
  if (cache == nullptr || !query.continue_token.empty()) return false;
  bool any = query.resource_version == "0" && query.resource_version_match != "Exact";
  bool not_older = query.resource_version_match == "NotOlderThan" && !query.resource_version.empty() &&
                   query.limit == 0;
  if (!any && !not_older) return false;
  int64_t min_revision = 0;
  absl::SimpleAtoi(query.resource_version, &min_revision);
  absl::StatusOr<CachedList> cached = cache->ListState(storage->NamespacePrefix(r.info.namespace_));
  if (!cached.ok() || cached->revision < min_revision) return false;
  const auto& kind = storage->kind();
  bool filter = !query.labels.Empty() || !query.fields.Empty();
  std::string rv = std::to_string(cached->revision);
  if (r.response_type == MediaType::kJson && !filter) {
    size_t bytes = 0;
    for (const auto& obj : cached->objects) bytes += obj->size() + 1;
    ListJsonWriter out(kind, bytes);
    for (const auto& obj : cached->objects) out.Add(*obj);
    r.writer.Send(200, {{"Content-Type", "application/json"}}, std::move(out).Finish({{"resourceVersion", rv}}));
    return true;
  }
  json items = json::array();
  for (const auto& text : cached->objects) {
    json obj = json::parse(*text, nullptr, false);
    if (!obj.is_object() || !storage->Matches(obj, query.labels, query.fields)) continue;
    obj.erase("kind");
    obj.erase("apiVersion");
    items.push_back(std::move(obj));
  }
  json list = {{"kind", kind.list_kind}, {"apiVersion", ApiVersionOf(kind)},
               {"metadata", {{"resourceVersion", rv}}}, {"items", std::move(items)}};
  if (r.response_type == MediaType::kTable) {
    std::vector<const json*> rows;
    for (const auto& item : list["items"]) rows.push_back(&item);
    WriteObject(r.writer, 200, ToTable(kind, rows, QueryValue(r.query, "includeObject"), list["metadata"]),
                MediaType::kJson);
  } else {
    WriteObject(r.writer, 200, list, r.response_type);
  }
  return true;
}

void RestHandler::List(const RestRequest& r, ResourceStorage* storage, WatchCache* cache) {
  Result<ListQuery> query = ParseListQuery(r.query, storage);
  if (!query.ok()) return WriteError(r.writer, query.error());
  if (ListFromCache(r, storage, cache, *query)) return;
  if (r.response_type == MediaType::kJson) {
    Result<std::string> text = storage->ListJson(r.info.namespace_, *query);
    if (!text.ok()) return WriteError(r.writer, text.error());
    return r.writer.Send(200, {{"Content-Type", "application/json"}}, std::move(*text));
  }
  Result<json> list = storage->List(r.info.namespace_, *query);
  if (!list.ok()) return WriteError(r.writer, list.error());
  if (r.response_type == MediaType::kTable) {
    std::vector<const json*> items;
    for (const auto& item : (*list)["items"]) items.push_back(&item);
    return WriteObject(r.writer, 200,
                       ToTable(storage->kind(), items, QueryValue(r.query, "includeObject"), (*list)["metadata"]),
                       MediaType::kJson);
  }
  WriteObject(r.writer, 200, *list, r.response_type);
}

void RestHandler::Create(const RestRequest& r, ResourceStorage* storage) {
  Result<WriteParams> write = ParseWrite(r);
  if (!write.ok()) return WriteError(r.writer, write.error());
  Result<json> body = DecodeBody(r.http);
  if (!body.ok()) return WriteError(r.writer, body.error());
  const auto& kind = storage->kind();
  if (auto bad = CheckTypeMeta(*body, kind)) return WriteError(r.writer, *bad);
  Headers warnings;
  if (auto bad = CheckUnknownFields(*body, kind, write->field_validation, &warnings)) {
    return WriteError(r.writer, *bad);
  }
  if (kind.namespaced) {
    std::string name = MetaString(*body, "name");
    if (auto refused = namespaces_->AdmitCreate(r.info.namespace_, storage->Target(name))) {
      return WriteError(r.writer, *refused);
    }
  }
  if (kind.group.empty() && kind.kind == "Namespace") NamespaceLifecycle::PrepareCreate(*body);
  Result<json> created = storage->Create(r.info.namespace_, std::move(*body), write->options);
  if (!created.ok()) return WriteError(r.writer, created.error());
  WriteObject(r.writer, 201, *created, r.response_type, warnings);
}

void RestHandler::Update(const RestRequest& r, ResourceStorage* storage) {
  Result<WriteParams> write = ParseWrite(r);
  if (!write.ok()) return WriteError(r.writer, write.error());
  Result<json> body = DecodeBody(r.http);
  if (!body.ok()) return WriteError(r.writer, body.error());
  const auto& kind = storage->kind();
  if (auto bad = CheckTypeMeta(*body, kind)) return WriteError(r.writer, *bad);
  Headers warnings;
  if (auto bad = CheckUnknownFields(*body, kind, write->field_validation, &warnings)) {
    return WriteError(r.writer, *bad);
  }
  WritePart part = r.info.subresource == "status" ? WritePart::kStatus : WritePart::kMain;
  json obj = std::move(*body);
  Result<json> updated = storage->Update(
      r.info.namespace_, r.info.name, part, [&](const json&) -> Result<json> { return obj; }, write->options);
  if (!updated.ok()) return WriteError(r.writer, updated.error());
  WriteObject(r.writer, 200, *updated, r.response_type, warnings);
}

void RestHandler::Delete(const RestRequest& r, ResourceStorage* storage) {
  Result<DeleteOptions> options = ParseDeleteOptions(r);
  if (!options.ok()) return WriteError(r.writer, options.error());
  Result<json> deleted = IsNamespaceKind(storage->kind())
                             ? namespaces_->Delete(r.info.name, *options)
                             : storage->Delete(r.info.namespace_, r.info.name, *options);
  if (!deleted.ok()) return WriteError(r.writer, deleted.error());
  WriteObject(r.writer, 200, *deleted, r.response_type);
}

void RestHandler::DeleteCollection(const RestRequest& r, ResourceStorage* storage) {
  Result<DeleteOptions> options = ParseDeleteOptions(r);
  if (!options.ok()) return WriteError(r.writer, options.error());
  Result<ListQuery> query = ParseListQuery(r.query, storage);
  if (!query.ok()) return WriteError(r.writer, query.error());
  query->limit = 0;
  query->continue_token.clear();
  Result<json> list = storage->List(r.info.namespace_, *query);
  if (!list.ok()) return WriteError(r.writer, list.error());
  json items = json::array();
  for (const auto& item : (*list)["items"]) {
    std::string name = MetaString(item, "name");
    std::string ns = MetaString(item, "namespace");
    Result<json> deleted = IsNamespaceKind(storage->kind()) ? namespaces_->Delete(name, *options)
                                                            : storage->Delete(ns, name, *options);
    if (!deleted.ok()) {
      if (deleted.error().code == 404) continue;
      return WriteError(r.writer, deleted.error());
    }
    deleted->erase("kind");
    deleted->erase("apiVersion");
    items.push_back(std::move(*deleted));
  }
  (*list)["items"] = std::move(items);
  WriteObject(r.writer, 200, *list, r.response_type);
}

}  // namespace berth::apiserver
