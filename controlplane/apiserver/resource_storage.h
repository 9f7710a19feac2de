// The generic registry for one kind (kube-apiserver's genericregistry.Store):
// objects as JSON under /registry/<resource>/<namespace>/<name> (non-core
// groups: /registry/<group>/<resource>/...), resourceVersion = the store's
// mod_revision, server-set metadata (uid, generation, creationTimestamp,
// generateName, deletionTimestamp), optimistic concurrency, the status
// split, finalizers, graceful deletion, defaulting and validation from the
// kind's KindInfo. It knows nothing about HTTP.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/kinds/kind_registry.h"
#include "controlplane/apiserver/api_errors.h"
#include "controlplane/apiserver/encryption.h"
#include "controlplane/apiserver/selectors.h"
#include "controlplane/apiserver/watch_cache.h"
#include "controlplane/store/store.h"

namespace berth::apiserver {

// A value or the API error that replaces it.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(ApiError error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }
  const ApiError& error() const { return error_; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

struct WriteOptions {
  bool dry_run = false;
  std::string field_manager;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

struct ListQuery {
  LabelSelector labels;
  FieldSelector fields;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;  // "" or "0" (any), or a revision
  std::string resource_version_match;
};

// Which part of the object a write changes.
enum class WritePart {
  kMain,    // the object; .status kept from the stored one when the kind has a status subresource
  kStatus,  // only .status (and nothing else) from the request
  kAll,     // everything (internal writes: namespace lifecycle, binding)
};

class ResourceStorage {
 public:
  ResourceStorage(const k8s::kinds::KindInfo& kind, store::Store* store,
                  const ValueTransformer* transformer);

  const k8s::kinds::KindInfo& kind() const { return kind_; }
  bool HasSubresource(absl::string_view sub) const;
  std::string KeyPrefix() const { return prefix_; }
  // The prefix for one namespace ("" = all; cluster-scoped: the resource prefix).
  std::string NamespacePrefix(const std::string& ns) const;
  std::string Key(const std::string& ns, const std::string& name) const;
  ErrorTarget Target(const std::string& name) const;
  ObjectDecoder Decoder() const;

  Result<nlohmann::json> Get(const std::string& ns, const std::string& name);
  // A List object (items without kind/apiVersion, as the API writes them).
  Result<nlohmann::json> List(const std::string& ns, const ListQuery& query);
  // The same List as JSON text, encoded item by item: a list of many objects
  // never holds them all as JSON trees at once.
  Result<std::string> ListJson(const std::string& ns, const ListQuery& query);

  // Every listed item in key order (without kind/apiVersion), then the list's
  // metadata (resourceVersion, continue).
  struct ListEnd {
    nlohmann::json metadata;
  };
  using ItemVisitor = std::function<void(nlohmann::json& item)>;
  Result<ListEnd> ForEachListed(const std::string& ns, const ListQuery& query, const ItemVisitor& each);
  // Stored values read per store page when a list has no limit.
  static constexpr int64_t kListPageSize = 1000;
  Result<nlohmann::json> Create(const std::string& ns, nlohmann::json obj, const WriteOptions& options);

  // Reads the current object, lets `mutate` make the new one from it and
  // writes it if its revision is unchanged. `mutate` may be called again
  // after a conflict when the new object carries no resourceVersion.
  using Mutation = std::function<Result<nlohmann::json>(const nlohmann::json& current)>;
  Result<nlohmann::json> Update(const std::string& ns, const std::string& name, WritePart part,
                                const Mutation& mutate, const WriteOptions& options);

  // Deletes now, or marks the object (finalizers, graceful pod deletion);
  // the returned object is the deleted or marked one.
  Result<nlohmann::json> Delete(const std::string& ns, const std::string& name,
                                const DeleteOptions& options);

  // Selector matching, with metadata.name/namespace and KindInfo::field_value.
  bool Matches(const nlohmann::json& obj, const LabelSelector& labels, const FieldSelector& fields) const;

 private:
  Result<std::string> Encode(const std::string& key, const nlohmann::json& obj) const;
  Result<nlohmann::json> Decode(const store::KeyValue& kv) const;
  Result<nlohmann::json> PrepareAndValidate(nlohmann::json& obj, const nlohmann::json* old) const;
  // The store removal of a marked object once it may go.
  Result<nlohmann::json> RemoveNow(const std::string& key, const nlohmann::json& obj, int64_t mod_revision,
                                   bool dry_run);

  const k8s::kinds::KindInfo& kind_;
  store::Store* store_;
  const ValueTransformer* transformer_;
  std::string prefix_;
};

// A List object's JSON text built from items already encoded:
// {"apiVersion":...,"items":[<item>,...],"kind":"<Kind>List","metadata":...}.
class ListJsonWriter {
 public:
  explicit ListJsonWriter(const k8s::kinds::KindInfo& kind, size_t reserve_bytes = 0);
  void Add(absl::string_view item_json);
  std::string Finish(const nlohmann::json& metadata) &&;

 private:
  const k8s::kinds::KindInfo& kind_;
  std::string out_;
  bool empty_ = true;
};

// Reads and writes "k8s.io continue tokens": base64 of
// {"v":"meta.k8s.io/v1","rv":N,"start":"<key after the prefix>"}.
std::string EncodeContinue(int64_t revision, const std::string& start);
bool DecodeContinue(const std::string& token, int64_t* revision, std::string* start);

}  // namespace berth::apiserver
