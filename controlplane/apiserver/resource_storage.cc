#include "controlplane/apiserver/resource_storage.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/k8s/patch/patch.h"
#include "controlplane/apiserver/object_meta.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

constexpr int kMaxConflictRetries = 16;

json& Meta(json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  return obj["metadata"];
}

void CopyMetaField(const json& from, json& to, const char* field) {
  auto m = from.find("metadata");
  if (m != from.end() && m->is_object() && m->contains(field)) {
    Meta(to)[field] = (*m)[field];
  } else {
    Meta(to).erase(field);
  }
}

bool HasFinalizers(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return false;
  auto f = m->find("finalizers");
  return f != m->end() && f->is_array() && !f->empty();
}

// A Namespace's spec.finalizers keep it while its content is removed.
bool HasSpecFinalizers(const json& obj) {
  auto spec = obj.find("spec");
  if (spec == obj.end() || !spec->is_object()) return false;
  auto f = spec->find("finalizers");
  return f != spec->end() && f->is_array() && !f->empty();
}

std::string ApiVersionOf(const k8s::kinds::KindInfo& kind) {
  return kind.group.empty() ? kind.version : absl::StrCat(kind.group, "/", kind.version);
}

}  // namespace

std::string EncodeContinue(int64_t revision, const std::string& start) {
  json token = {{"v", "meta.k8s.io/v1"}, {"rv", revision}, {"start", start}};
  return absl::WebSafeBase64Escape(token.dump());
}

bool DecodeContinue(const std::string& token, int64_t* revision, std::string* start) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text) && !absl::Base64Unescape(token, &text)) return false;
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_object() || parsed.value("v", "") != "meta.k8s.io/v1" || !parsed.contains("rv") ||
      !parsed["rv"].is_number_integer() || !parsed.contains("start") || !parsed["start"].is_string()) {
    return false;
  }
  *revision = parsed["rv"].get<int64_t>();
  *start = parsed["start"].get<std::string>();
  return *revision > 0 && start->find("..") == std::string::npos;
}

ResourceStorage::ResourceStorage(const k8s::kinds::KindInfo& kind, store::Store* store,
                                 const ValueTransformer* transformer)
    : kind_(kind), store_(store), transformer_(transformer) {
  prefix_ = kind.group.empty() ? absl::StrCat("/registry/", kind.resource, "/")
                               : absl::StrCat("/registry/", kind.group, "/", kind.resource, "/");
}

bool ResourceStorage::HasSubresource(absl::string_view sub) const {
  for (const auto& s : kind_.subresources) {
    if (s == sub) return true;
  }
  return false;
}

std::string ResourceStorage::NamespacePrefix(const std::string& ns) const {
  if (!kind_.namespaced || ns.empty()) return prefix_;
  return absl::StrCat(prefix_, ns, "/");
}

std::string ResourceStorage::Key(const std::string& ns, const std::string& name) const {
  if (!kind_.namespaced) return absl::StrCat(prefix_, name);
  return absl::StrCat(prefix_, ns, "/", name);
}

ErrorTarget ResourceStorage::Target(const std::string& name) const {
  return ErrorTarget{kind_.group, kind_.resource, kind_.kind, name};
}

ObjectDecoder ResourceStorage::Decoder() const {
  return [this](const std::string& key, const std::string& value, int64_t revision) -> absl::StatusOr<json> {
    store::KeyValue kv;
    kv.key = key;
    kv.value = value;
    kv.mod_revision = revision;
    Result<json> obj = Decode(kv);
    if (!obj.ok()) return absl::InternalError(obj.error().message);
    return std::move(obj.value());
  };
}

Result<json> ResourceStorage::Decode(const store::KeyValue& kv) const {
  std::string plain;
  if (transformer_ != nullptr) {
    auto decrypted = transformer_->Decrypt(kv.key, kv.value);
    if (!decrypted.ok()) return InternalServerError(decrypted.status().message());
    plain = std::move(*decrypted);
  }
  const std::string& text = transformer_ != nullptr ? plain : kv.value;
  json obj = json::parse(text, nullptr, false);
  if (!obj.is_object()) return InternalServerError(absl::StrCat("stored value of ", kv.key, " is not a JSON object"));
  Meta(obj)["resourceVersion"] = std::to_string(kv.mod_revision);
  return obj;
}

Result<std::string> ResourceStorage::Encode(const std::string& key, const json& obj) const {
  json copy = obj;
  Meta(copy).erase("resourceVersion");
  std::string text = copy.dump();
  if (transformer_ == nullptr) return text;
  auto encrypted = transformer_->Encrypt(key, text);
  if (!encrypted.ok()) return InternalServerError(encrypted.status().message());
  return std::move(*encrypted);
}

bool ResourceStorage::Matches(const json& obj, const LabelSelector& labels, const FieldSelector& fields) const {
  if (!labels.Empty() && !labels.Matches(Labels(obj))) return false;
  if (fields.Empty()) return true;
  return fields.Matches([&](const std::string& field) -> std::optional<std::string> {
    if (field == "metadata.name") return MetaString(obj, "name");
    if (field == "metadata.namespace") return MetaString(obj, "namespace");
    if (kind_.field_value) return kind_.field_value(obj, field);
    return std::nullopt;
  });
}

Result<json> ResourceStorage::Get(const std::string& ns, const std::string& name) {
  auto kv = store_->Get(Key(ns, name));
  if (!kv.ok()) return FromStoreStatus(kv.status(), Target(name));
  return Decode(*kv);
}

Result<ResourceStorage::ListEnd> ResourceStorage::ForEachListed(const std::string& ns, const ListQuery& query,
                                                                 const ItemVisitor& each) {
  std::string prefix = NamespacePrefix(ns);
  store::ListOptions options;
  if (!query.continue_token.empty()) {
    std::string start;
    if (!DecodeContinue(query.continue_token, &options.revision, &start)) {
      return BadRequestError(absl::StrCat("continue: Invalid value: \"", query.continue_token,
                                          "\": the continue token is not valid"));
    }
    options.continue_key = prefix + start;
  } else if (!query.resource_version.empty() && query.resource_version != "0" &&
             query.resource_version_match == "Exact") {
    if (!absl::SimpleAtoi(query.resource_version, &options.revision) || options.revision <= 0) {
      return BadRequestError(absl::StrCat("resourceVersion: Invalid value: \"", query.resource_version,
                                          "\": must be a positive integer"));
    }
  }
  int64_t listed = 0;
  std::string next_start;
  int64_t revision = 0;
  while (true) {
    // Pages of the store's values (all at the first page's revision), so a
    // full list holds one page of stored values at a time, not every one.
    options.limit = query.limit > 0 ? std::max<int64_t>(query.limit, 100) : kListPageSize;
    auto page = store_->List(prefix, options);
    if (!page.ok()) {
      if (page.status().code() == absl::StatusCode::kOutOfRange && !query.continue_token.empty()) {
        return GoneError(
            "The provided continue parameter is too old to display a consistent list result. You can "
            "start a new list without the continue parameter, or use the continue token in this "
            "response to retrieve the remainder of the results. Continuing with the provided token "
            "results in an inconsistent list - objects that were created, modified, or deleted between "
            "the time the first chunk was returned and now may show up in the list.");
      }
      return FromStoreStatus(page.status(), Target(""));
    }
    revision = page->revision;
    options.revision = page->revision;
    for (size_t i = 0; i < page->items.size(); ++i) {
      const auto& kv = page->items[i];
      if (query.limit > 0 && listed >= query.limit) {
        next_start = kv.key.substr(prefix.size());
        break;
      }
      Result<json> obj = Decode(kv);
      if (!obj.ok()) return obj.error();
      if (!Matches(*obj, query.labels, query.fields)) continue;
      obj->erase("kind");
      obj->erase("apiVersion");
      ++listed;
      each(*obj);
    }
    if (!next_start.empty() || !page->more) break;
    if (query.limit > 0 && listed >= query.limit) {
      next_start = page->continue_key.substr(prefix.size());
      break;
    }
    options.continue_key = page->continue_key;
  }
  ListEnd list_end;
  list_end.metadata = {{"resourceVersion", std::to_string(revision)}};
  if (!next_start.empty()) list_end.metadata["continue"] = EncodeContinue(revision, next_start);
  return list_end;
}

Result<json> ResourceStorage::List(const std::string& ns, const ListQuery& query) {
  json items = json::array();
  Result<ListEnd> end = ForEachListed(ns, query, [&](json& item) { items.push_back(std::move(item)); });
  if (!end.ok()) return end.error();
  return json{{"kind", kind_.list_kind},
              {"apiVersion", ApiVersionOf(kind_)},
              {"metadata", std::move(end->metadata)},
              {"items", std::move(items)}};
}

Result<std::string> ResourceStorage::ListJson(const std::string& ns, const ListQuery& query) {
  ListJsonWriter out(kind_);
  Result<ListEnd> end = ForEachListed(ns, query, [&](json& item) { out.Add(item.dump()); });
  if (!end.ok()) return end.error();
  return std::move(out).Finish(end->metadata);
}

ListJsonWriter::ListJsonWriter(const k8s::kinds::KindInfo& kind, size_t reserve_bytes) : kind_(kind) {
  out_.reserve(reserve_bytes + 256);
  absl::StrAppend(&out_, "{\"apiVersion\":", json(ApiVersionOf(kind_)).dump(), ",\"items\":[");
}

void ListJsonWriter::Add(absl::string_view item_json) {
  if (!empty_) out_.push_back(',');
  empty_ = false;
  out_.append(item_json.data(), item_json.size());
}

std::string ListJsonWriter::Finish(const json& metadata) && {
  absl::StrAppend(&out_, "],\"kind\":", json(kind_.list_kind).dump(), ",\"metadata\":", metadata.dump(), "}");
  return std::move(out_);
}


Result<json> ResourceStorage::PrepareAndValidate(json& obj, const json* old) const {
  if (kind_.set_defaults) kind_.set_defaults(obj);
  std::vector<k8s::kinds::FieldError> errors;
  if (kind_.validate) {
    errors = kind_.validate(obj, old);
  } else {
    std::string name = MetaString(obj, "name");
    std::string why = Dns1123SubdomainError(name);
    if (!why.empty()) errors.push_back({"FieldValueInvalid", "metadata.name", why});
  }
  if (!errors.empty()) return InvalidError(Target(MetaString(obj, "name")), errors);
  return obj;
}

Result<json> ResourceStorage::Create(const std::string& ns, json obj, const WriteOptions& options) {
  json& meta = Meta(obj);
  std::string name = MetaString(obj, "name");
  if (name.empty() && !MetaString(obj, "generateName").empty()) {
    name = GenerateName(MetaString(obj, "generateName"));
    meta["name"] = name;
  }
  if (name.empty()) {
    return InvalidError(Target(""), {{"FieldValueRequired", "metadata.name",
                                      "Required value: name or generateName is required"}});
  }
  if (kind_.namespaced) {
    std::string body_ns = MetaString(obj, "namespace");
    if (!body_ns.empty() && body_ns != ns) {
      return BadRequestError(absl::StrCat("the namespace of the provided object (", body_ns,
                                          ") does not match the namespace sent on the request (", ns, ")"));
    }
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = NowRfc3339();
  meta["generation"] = 1;
  for (const char* f : {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}) {
    meta.erase(f);
  }
  obj["apiVersion"] = ApiVersionOf(kind_);
  obj["kind"] = kind_.kind;
  Result<json> valid = PrepareAndValidate(obj, nullptr);
  if (!valid.ok()) return valid.error();
  if (!options.field_manager.empty()) k8s::patch::RecordUpdateManager(nullptr, obj, options.field_manager, kind_);
  std::string key = Key(ns, name);
  Result<std::string> value = Encode(key, obj);
  if (!value.ok()) return value.error();
  if (options.dry_run) return obj;
  auto revision = store_->Create(key, *value);
  if (!revision.ok()) return FromStoreStatus(revision.status(), Target(name));
  Meta(obj)["resourceVersion"] = std::to_string(*revision);
  return obj;
}

Result<json> ResourceStorage::RemoveNow(const std::string& key, const json& obj, int64_t mod_revision,
                                        bool dry_run) {
  json out = obj;
  if (dry_run) return out;
  auto deleted = store_->Delete(key, mod_revision);
  if (!deleted.ok()) return FromStoreStatus(deleted.status(), Target(MetaString(obj, "name")));
  Meta(out)["resourceVersion"] = std::to_string(deleted->revision);
  return out;
}

Result<json> ResourceStorage::Update(const std::string& ns, const std::string& name, WritePart part,
                                     const Mutation& mutate, const WriteOptions& options) {
  std::string key = Key(ns, name);
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    auto kv = store_->Get(key);
    if (!kv.ok()) return FromStoreStatus(kv.status(), Target(name));
    Result<json> current = Decode(*kv);
    if (!current.ok()) return current.error();
    Result<json> next = mutate(*current);
    if (!next.ok()) return next.error();
    json obj = std::move(*next);
    if (!obj.is_object()) return BadRequestError("the body of the request is not a JSON object");
    std::string client_rv = MetaString(obj, "resourceVersion");
    if (!client_rv.empty() && client_rv != std::to_string(kv->mod_revision)) {
      return ConflictError(Target(name));
    }
    if (part == WritePart::kStatus) {
      json status = obj.contains("status") ? obj["status"] : json();
      obj = *current;
      if (status.is_null()) obj.erase("status"); else obj["status"] = status;
    } else if (part == WritePart::kMain && HasSubresource("status")) {
      if (current->contains("status")) obj["status"] = (*current)["status"]; else obj.erase("status");
    }
    std::string body_name = MetaString(obj, "name");
    if (!body_name.empty() && body_name != name) {
      return BadRequestError(absl::StrCat("the name of the object (", body_name,
                                          ") does not match the name on the URL (", name, ")"));
    }
    Meta(obj)["name"] = name;
    if (kind_.namespaced) {
      std::string body_ns = MetaString(obj, "namespace");
      if (!body_ns.empty() && body_ns != ns) {
        return BadRequestError(absl::StrCat("the namespace of the provided object (", body_ns,
                                            ") does not match the namespace sent on the request (", ns, ")"));
      }
      Meta(obj)["namespace"] = ns;
    } else {
      Meta(obj).erase("namespace");
    }
    if (part != WritePart::kAll) {
      for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
        CopyMetaField(*current, obj, f);
      }
    }
    CopyMetaField(*current, obj, "generation");
    obj["apiVersion"] = ApiVersionOf(kind_);
    obj["kind"] = kind_.kind;
    if (part != WritePart::kStatus && SpecChanged(*current, obj)) {
      Meta(obj)["generation"] = Meta(*current).value("generation", int64_t{0}) + 1;
    }
    Result<json> valid = PrepareAndValidate(obj, &current.value());
    if (!valid.ok()) return valid.error();
    Meta(obj)["resourceVersion"] = std::to_string(kv->mod_revision);
    if (Comparable(obj) == Comparable(*current)) return *current;  // nothing changes: no write
    if (!options.field_manager.empty()) {
      k8s::patch::RecordUpdateManager(&current.value(), obj, options.field_manager, kind_);
    }
    // Finalizers emptied on an object marked for deletion: it goes now.
    if (Meta(obj).contains("deletionTimestamp") && !HasFinalizers(obj) &&
        Meta(obj).value("deletionGracePeriodSeconds", int64_t{0}) == 0 && !HasSpecFinalizers(obj)) {
      Result<json> removed = RemoveNow(key, obj, kv->mod_revision, options.dry_run);
      if (!removed.ok() && removed.error().reason == "Conflict" && client_rv.empty()) continue;
      return removed;
    }
    Result<std::string> value = Encode(key, obj);
    if (!value.ok()) return value.error();
    if (options.dry_run) return obj;
    auto revision = store_->Update(key, *value, kv->mod_revision);
    if (!revision.ok()) {
      if (revision.status().code() == absl::StatusCode::kAborted && client_rv.empty()) continue;
      return FromStoreStatus(revision.status(), Target(name));
    }
    Meta(obj)["resourceVersion"] = std::to_string(*revision);
    return obj;
  }
  return ConflictError(Target(name), "too many concurrent writes; please retry");
}

Result<json> ResourceStorage::Delete(const std::string& ns, const std::string& name,
                                     const DeleteOptions& options) {
  std::string key = Key(ns, name);
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    auto kv = store_->Get(key);
    if (!kv.ok()) return FromStoreStatus(kv.status(), Target(name));
    Result<json> current = Decode(*kv);
    if (!current.ok()) return current.error();
    json& meta = Meta(*current);
    if (!options.precondition_uid.empty() && options.precondition_uid != meta.value("uid", "")) {
      return ConflictError(Target(name), absl::StrCat("Precondition failed: UID in precondition: ",
                                                      options.precondition_uid, ", UID in object meta: ",
                                                      meta.value("uid", "")));
    }
    if (!options.precondition_resource_version.empty() &&
        options.precondition_resource_version != std::to_string(kv->mod_revision)) {
      return ConflictError(Target(name), absl::StrCat("Precondition failed: ResourceVersion in precondition: ",
                                                      options.precondition_resource_version,
                                                      ", ResourceVersion in object meta: ", kv->mod_revision));
    }
    // Graceful deletion: a pod bound to a node and not finished gets a
    // deletionTimestamp its node's agent acts on, then deletes it with 0.
    int64_t grace = 0;
    if (kind_.group.empty() && kind_.kind == "Pod") {
      const json& spec = current->value("spec", json::object());
      grace = options.grace_period_seconds.value_or(spec.value("terminationGracePeriodSeconds", int64_t{30}));
      std::string phase = current->value("status", json::object()).value("phase", "");
      if (spec.value("nodeName", "").empty() || phase == "Succeeded" || phase == "Failed") grace = 0;
      if (grace < 0) grace = 0;
    }
    bool finalizers = HasFinalizers(*current);
    if (grace > 0 || finalizers) {
      bool marked = meta.contains("deletionTimestamp");
      int64_t current_grace = meta.value("deletionGracePeriodSeconds", int64_t{0});
      if (marked && (grace == 0 || grace >= current_grace)) {
        if (!finalizers || grace > 0 || current_grace == 0) return *current;  // already on its way
      }
      json obj = *current;
      Meta(obj)["deletionTimestamp"] = FormatRfc3339(absl::ToUnixSeconds(absl::Now()) + grace);
      Meta(obj)["deletionGracePeriodSeconds"] = grace;
      if (grace == 0 && !finalizers) return RemoveNow(key, obj, kv->mod_revision, options.dry_run);
      Result<std::string> value = Encode(key, obj);
      if (!value.ok()) return value.error();
      if (options.dry_run) return obj;
      auto revision = store_->Update(key, *value, kv->mod_revision);
      if (!revision.ok()) {
        if (revision.status().code() == absl::StatusCode::kAborted) continue;
        return FromStoreStatus(revision.status(), Target(name));
      }
      Meta(obj)["resourceVersion"] = std::to_string(*revision);
      return obj;
    }
    Result<json> removed = RemoveNow(key, *current, kv->mod_revision, options.dry_run);
    if (!removed.ok() && removed.error().reason == "Conflict") continue;
    return removed;
  }
  return ConflictError(Target(name), "too many concurrent writes; please retry");
}

}  // namespace berth::apiserver
