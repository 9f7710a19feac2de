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
#include "controlplane/apiserver/protobuf_body.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

std::string MediaTypeOf(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

std::string ApiVersionOf(const k8s::kinds::KindInfo& kind) {
  return kind.group.empty() ? kind.version : absl::StrCat(kind.group, "/", kind.version);
}

Result<json> ParseText(const std::string& body, bool yaml) {
  if (yaml) {
    auto docs = k8s::YamlToJson(body);
    if (!docs.ok()) return BadRequestError(absl::StrCat("error decoding YAML: ", docs.status().message()));
    if (docs->size() != 1) {
      return BadRequestError(absl::StrCat("the request body must hold one YAML document, got ", docs->size()));
    }
    return (*docs)[0];
  }
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    try {
      json reparsed = json::parse(body);
      (void)reparsed;
    } catch (const json::parse_error& e) {
      return BadRequestError(absl::StrCat("the body of the request was not valid JSON: ", e.what()));
    }
    return BadRequestError("the body of the request was not valid JSON");
  }
  return parsed;
}

// The apiVersion and kind the body names must be this resource's.
std::optional<ApiError> CheckTypeMeta(const json& obj, const k8s::kinds::KindInfo& kind,
                                      const std::string& want_kind, const std::string& want_version) {
  if (!obj.is_object()) return BadRequestError("the body of the request must be a JSON object");
  std::string body_kind = obj.value("kind", "");
  std::string body_version = obj.value("apiVersion", "");
  if (body_kind.empty()) return BadRequestError(absl::StrCat("Object 'Kind' is missing in '", obj.dump(), "'"));
  if (body_version.empty()) {
    return BadRequestError(absl::StrCat("Object 'apiVersion' is missing in '", obj.dump(), "'"));
  }
  if (body_version != want_version) {
    return BadRequestError(absl::StrCat("the API version in the data (", body_version,
                                        ") does not match the expected API version (", want_version, ")"));
  }
  if (body_kind != want_kind) {
    return BadRequestError(absl::StrCat("the kind in the data (", body_kind,
                                        ") does not match the expected kind (", want_kind, ")"));
  }
  (void)kind;
  return std::nullopt;
}

std::optional<ApiError> CheckTypeMeta(const json& obj, const k8s::kinds::KindInfo& kind) {
  return CheckTypeMeta(obj, kind, kind.kind, ApiVersionOf(kind));
}

std::string WarningHeader(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return absl::StrCat("299 - \"", escaped, "\"");
}

struct Write {
  WriteOptions options;
  std::string field_validation;  // Strict, Warn, Ignore
};

Result<Write> ParseWrite(const RestRequest& r) {
  Write w;
  std::string dry_run = QueryValue(r.query, "dryRun");
  if (!dry_run.empty() && dry_run != "All") {
    return BadRequestError(absl::StrCat("dryRun: Unsupported value: \"", dry_run, "\": supported values: \"All\""));
  }
  w.options.dry_run = dry_run == "All";
  w.options.field_manager = QueryValue(r.query, "fieldManager");
  if (w.options.field_manager.empty()) {
    std::string agent = r.http.Header("user-agent");
    w.options.field_manager = agent.substr(0, agent.find('/'));
    if (w.options.field_manager.empty()) w.options.field_manager = "unknown";
  }
  if (w.options.field_manager.size() > 128) {
    return BadRequestError("fieldManager: Too long: may not be longer than 128 characters");
  }
  w.field_validation = QueryValue(r.query, "fieldValidation");
  if (w.field_validation.empty()) w.field_validation = "Warn";
  if (w.field_validation != "Strict" && w.field_validation != "Warn" && w.field_validation != "Ignore") {
    return BadRequestError(absl::StrCat("fieldValidation: Unsupported value: \"", w.field_validation,
                                        "\": supported values: \"Ignore\", \"Strict\", \"Warn\""));
  }
  return w;
}

// Unknown fields: an error under Strict, warnings under Warn.
std::optional<ApiError> CheckUnknownFields(const json& obj, const k8s::kinds::KindInfo& kind,
                                           const std::string& mode, Headers* warnings) {
  if (mode == "Ignore" || !kind.unknown_fields) return std::nullopt;
  std::vector<std::string> unknown = kind.unknown_fields(obj);
  if (unknown.empty()) return std::nullopt;
  if (mode == "Strict") {
    std::vector<std::string> parts;
    for (const auto& f : unknown) parts.push_back(absl::StrCat("unknown field \"", f, "\""));
    return BadRequestError(absl::StrCat("strict decoding error: ", absl::StrJoin(parts, ", ")));
  }
  for (const auto& f : unknown) {
    warnings->push_back({"Warning", WarningHeader(absl::StrCat("unknown field \"", f, "\""))});
  }
  return std::nullopt;
}

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

json SuccessStatus(int code) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"},
          {"code", code}};
}

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

}  // namespace

void WriteObject(ResponseWriter& writer, int code, const json& body, MediaType type, const Headers& extra) {
  Headers headers = extra;
  if (type == MediaType::kYaml) {
    headers.push_back({"Content-Type", "application/yaml"});
    writer.Send(code, headers, k8s::JsonToYaml(body));
    return;
  }
  headers.push_back({"Content-Type", "application/json"});
  writer.Send(code, headers, body.dump());
}

void WriteError(ResponseWriter& writer, const ApiError& error) {
  writer.Send(error.code, {{"Content-Type", "application/json"}}, error.ToStatus().dump());
}

Result<json> DecodeBody(const HttpRequest& request) {
  std::string media = MediaTypeOf(request.Header("content-type"));
  if (media.empty() || media == "application/json") return ParseText(request.body, false);
  if (media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml") {
    return ParseText(request.body, true);
  }
  if (media == kProtobufMediaType) {
    auto decoded = DecodeProtobufBody(request.body);
    if (decoded.ok()) return std::move(*decoded);
    if (decoded.status().code() == absl::StatusCode::kUnimplemented) {
      ApiError e = UnsupportedMediaTypeError(media);
      e.message = std::string(decoded.status().message());
      return e;
    }
    return BadRequestError(decoded.status().message());
  }
  return UnsupportedMediaTypeError(media);
}

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

namespace {

Result<ListQuery> ParseListQuery(const QueryParams& query, ResourceStorage* storage) {
  ListQuery q;
  auto labels = LabelSelector::Parse(QueryValue(query, "labelSelector"));
  if (!labels.ok()) return BadRequestError(labels.status().message());
  q.labels = std::move(*labels);
  auto fields = FieldSelector::Parse(QueryValue(query, "fieldSelector"));
  if (!fields.ok()) return BadRequestError(fields.status().message());
  for (const auto& req : fields->requirements()) {
    if (req.field == "metadata.name" || req.field == "metadata.namespace") continue;
    const auto& kind = storage->kind();
    if (!kind.field_value || !kind.field_value(json::object(), req.field).has_value()) {
      return BadRequestError(absl::StrCat("field label not supported: ", req.field));
    }
  }
  q.fields = std::move(*fields);
  std::string limit = QueryValue(query, "limit");
  if (!limit.empty() && (!absl::SimpleAtoi(limit, &q.limit) || q.limit < 0)) {
    return BadRequestError(absl::StrCat("limit: Invalid value: \"", limit, "\": must be a non-negative integer"));
  }
  q.continue_token = QueryValue(query, "continue");
  q.resource_version = QueryValue(query, "resourceVersion");
  q.resource_version_match = QueryValue(query, "resourceVersionMatch");
  if (!q.resource_version_match.empty() && q.resource_version_match != "Exact" &&
      q.resource_version_match != "NotOlderThan") {
    return BadRequestError(absl::StrCat("resourceVersionMatch: Unsupported value: \"", q.resource_version_match,
                                        "\": supported values: \"Exact\", \"NotOlderThan\""));
  }
  int64_t rv;
  if (!q.resource_version.empty() && (!absl::SimpleAtoi(q.resource_version, &rv) || rv < 0)) {
    return BadRequestError(absl::StrCat("resourceVersion: Invalid value: \"", q.resource_version,
                                        "\": must be a non-negative integer"));
  }
  return q;
}

}  // namespace

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

void RestHandler::Watch(const RestRequest& r, ResourceStorage* storage, WatchCache* cache) {
  Result<ListQuery> parsed = ParseListQuery(r.query, storage);
  if (!parsed.ok()) return WriteError(r.writer, parsed.error());
  ListQuery query = std::move(*parsed);
  if (!r.info.name.empty()) {
    auto by_name = FieldSelector::Parse(absl::StrCat("metadata.name=", r.info.name));
    query.fields = std::move(*by_name);
  }
  int64_t timeout_seconds = 1800;
  std::string timeout = QueryValue(r.query, "timeoutSeconds");
  if (!timeout.empty() && (!absl::SimpleAtoi(timeout, &timeout_seconds) || timeout_seconds < 0)) {
    return WriteError(r.writer, BadRequestError(absl::StrCat("timeoutSeconds: Invalid value: \"", timeout, "\"")));
  }
  if (timeout_seconds == 0) timeout_seconds = 1800;
  bool bookmarks = QueryValue(r.query, "allowWatchBookmarks") == "true";
  bool send_initial = QueryValue(r.query, "sendInitialEvents") == "true";
  std::string include = QueryValue(r.query, "includeObject");
  bool table = r.response_type == MediaType::kTable;
  const auto& kind = storage->kind();
  std::string prefix = storage->NamespacePrefix(r.info.namespace_);

  // Where to start: a given revision, or now with the current state as ADDED events.
  std::vector<CachedEventPtr> initial;
  int64_t from = 0;
  bool initial_state = query.resource_version.empty() || query.resource_version == "0" || send_initial;
  bool initial_from_cache = false;
  if (initial_state && cache != nullptr && query.resource_version == "0") {
    // Any state will do (as kube-apiserver): the watch cache's, then its
    // events after it.
    absl::StatusOr<CachedList> cached = cache->ListState(prefix);
    if (cached.ok()) {
      bool filter = !query.labels.Empty() || !query.fields.Empty();
      for (const auto& text : cached->objects) {
        auto event = std::make_shared<CachedEvent>();
        event->type = CachedEvent::Type::kAdded;
        if (filter || table) {
          json obj = json::parse(*text, nullptr, false);
          if (!obj.is_object() || !storage->Matches(obj, query.labels, query.fields)) continue;
          event->object = std::make_shared<const json>(std::move(obj));
        }
        event->object_json = *text;
        initial.push_back(std::move(event));
      }
      from = cached->revision + 1;
      initial_from_cache = true;
    }
  }
  if (initial_state && !initial_from_cache) {
    ListQuery all;
    all.labels = query.labels;
    all.fields = query.fields;
    Result<json> list = storage->List(r.info.namespace_, all);
    if (!list.ok()) return WriteError(r.writer, list.error());
    int64_t revision = 0;
    absl::SimpleAtoi((*list)["metadata"].value("resourceVersion", "0"), &revision);
    for (auto& item : (*list)["items"]) {
      auto event = std::make_shared<CachedEvent>();
      event->type = CachedEvent::Type::kAdded;
      item["kind"] = kind.kind;
      item["apiVersion"] = ApiVersionOf(kind);
      event->object = std::make_shared<const json>(std::move(item));
      initial.push_back(std::move(event));
    }
    from = revision + 1;
  } else if (!initial_state) {
    absl::SimpleAtoi(query.resource_version, &from);
    from += 1;
  }
  std::unique_ptr<EventSource> source;
  absl::StatusOr<std::unique_ptr<EventSource>> subscribed =
      cache ? cache->Subscribe(from, prefix) : absl::OutOfRangeError("no watch cache");
  if (subscribed.ok()) {
    source = std::move(*subscribed);
  } else {
    auto direct = StoreEventSource(store_, prefix, from, storage->Decoder());
    if (!direct.ok()) {
      if (direct.status().code() == absl::StatusCode::kOutOfRange) {
        // As kube-apiserver: 200, then one ERROR event with 410 Expired.
        if (!r.writer.BeginStream(200, {{"Content-Type", "application/json"}})) return;
        ApiError gone = GoneError(absl::StrCat("too old resource version: ", from - 1, " (",
                                               direct.status().message(), ")"));
        r.writer.WriteChunk(json{{"type", "ERROR"}, {"object", gone.ToStatus()}}.dump() + "\n");
        r.writer.EndStream();
        return;
      }
      return WriteError(r.writer, FromStoreStatus(direct.status(), storage->Target("")));
    }
    source = std::move(*direct);
  }

  if (!r.writer.BeginStream(200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-cache, private"}})) {
    return;
  }
  // Event lines go out in one chunk per batch; the object's JSON was encoded
  // once by the watch cache and is shared by every watcher.
  std::string batch;
  auto add = [&](const char* type, const CachedEvent& e) {
    if (!table) {
      if (e.object_json.empty()) {  // an initial event, sent once
        absl::StrAppend(&batch, "{\"type\":\"", type, "\",\"object\":", e.object->dump(), "}\n");
      } else {
        batch += WatchEventLine(type, e);
      }
      return;
    }
    const json& obj = *e.object;
    json out_obj = ToTable(kind, {&obj}, include, {{"resourceVersion", MetaString(obj, "resourceVersion")}});
    absl::StrAppend(&batch, json{{"type", type}, {"object", std::move(out_obj)}}.dump(), "\n");
  };
  auto flush = [&] {
    bool ok = r.writer.WriteChunk(batch);
    batch.clear();
    return ok;
  };
  auto bookmark = [&](int64_t revision, bool initial_end) {
    json meta = {{"resourceVersion", std::to_string(revision)}};
    if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    json obj = {{"kind", kind.kind}, {"apiVersion", ApiVersionOf(kind)}, {"metadata", meta}};
    return r.writer.WriteChunk(json{{"type", "BOOKMARK"}, {"object", obj}}.dump() + "\n");
  };
  for (const auto& e : initial) {
    add("ADDED", *e);
    if (batch.size() >= 64 * 1024 && !flush()) return source->Stop();
  }
  if (!flush()) return source->Stop();
  if (send_initial && bookmarks && !bookmark(from - 1, true)) return source->Stop();

  absl::Time end = absl::Now() + absl::Seconds(timeout_seconds);
  absl::Time last_bookmark = absl::Now();
  while (absl::Now() < end) {
    auto events = source->Next(std::min(end, absl::Now() + absl::Seconds(1)));
    if (!events.ok()) break;  // cache restarted or watcher too slow: the client re-watches
    for (const auto& e : *events) {
      bool now_matches = storage->Matches(*e->object, query.labels, query.fields);
      bool was = e->prev && storage->Matches(*e->prev, query.labels, query.fields);
      const char* type = nullptr;
      switch (e->type) {
        case CachedEvent::Type::kAdded:
          if (now_matches) type = "ADDED";
          break;
        case CachedEvent::Type::kModified:
          if (now_matches) type = was ? "MODIFIED" : "ADDED";
          else if (was) type = "DELETED";
          break;
        case CachedEvent::Type::kDeleted:
          if (now_matches) type = "DELETED";
          break;
      }
      if (type != nullptr) add(type, *e);
    }
    if (!flush()) return source->Stop();
    if (events->empty()) {
      if (r.writer.ClientGone()) break;
      if (bookmarks && absl::Now() - last_bookmark >= bookmark_interval_) {
        if (!bookmark(source->ProgressRevision(), false)) break;
        last_bookmark = absl::Now();
      }
    }
  }
  source->Stop();
  r.writer.EndStream();
}

void RestHandler::Create(const RestRequest& r, ResourceStorage* storage) {
  Result<Write> write = ParseWrite(r);
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
  Result<Write> write = ParseWrite(r);
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

void RestHandler::Patch(const RestRequest& r, ResourceStorage* storage) {
  Result<Write> write = ParseWrite(r);
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

namespace {

Result<DeleteOptions> ParseDeleteOptions(const RestRequest& r) {
  DeleteOptions options;
  json body = json::object();
  if (!r.http.body.empty()) {
    Result<json> parsed = DecodeBody(r.http);
    if (!parsed.ok()) return parsed.error();
    if (!parsed->is_object()) return BadRequestError("DeleteOptions must be a JSON object");
    body = std::move(*parsed);
  }
  if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer()) {
    options.grace_period_seconds = body["gracePeriodSeconds"].get<int64_t>();
  }
  std::string grace = QueryValue(r.query, "gracePeriodSeconds");
  if (!grace.empty()) {
    int64_t g;
    if (!absl::SimpleAtoi(grace, &g)) {
      return BadRequestError(absl::StrCat("gracePeriodSeconds: Invalid value: \"", grace, "\""));
    }
    options.grace_period_seconds = g;
  }
  const json& pre = body.value("preconditions", json::object());
  if (pre.is_object()) {
    options.precondition_uid = pre.value("uid", "");
    options.precondition_resource_version = pre.value("resourceVersion", "");
  }
  std::string dry_run = QueryValue(r.query, "dryRun");
  if (body.contains("dryRun") && body["dryRun"].is_array() && !body["dryRun"].empty()) {
    dry_run = body["dryRun"][0].get<std::string>();
  }
  if (!dry_run.empty() && dry_run != "All") {
    return BadRequestError(absl::StrCat("dryRun: Unsupported value: \"", dry_run, "\": supported values: \"All\""));
  }
  options.dry_run = dry_run == "All";
  std::string policy = QueryValue(r.query, "propagationPolicy");
  if (policy.empty()) policy = body.value("propagationPolicy", "");
  if (!policy.empty() && policy != "Orphan" && policy != "Background" && policy != "Foreground") {
    return BadRequestError(absl::StrCat("propagationPolicy: Unsupported value: \"", policy,
                                        "\": supported values: \"Orphan\", \"Background\", \"Foreground\""));
  }
  return options;
}

bool IsNamespaceKind(const k8s::kinds::KindInfo& kind) { return kind.group.empty() && kind.kind == "Namespace"; }

}  // namespace

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

void RestHandler::Scale(const RestRequest& r, ResourceStorage* storage) {
  const std::string& verb = r.info.verb;
  if (verb == "get") {
    Result<json> obj = storage->Get(r.info.namespace_, r.info.name);
    if (!obj.ok()) return WriteError(r.writer, obj.error());
    return WriteObject(r.writer, 200, ToScale(*obj), r.response_type);
  }
  if (verb != "update" && verb != "patch") return WriteError(r.writer, MethodNotAllowedError(r.http.method, r.info.path));
  Result<Write> write = ParseWrite(r);
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
  Result<Write> write = ParseWrite(r);
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
