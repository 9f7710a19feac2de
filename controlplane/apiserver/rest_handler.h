// The resource verbs over HTTP for one request: get, list, watch, create,
// update, patch (JSON patch, merge patch, strategic merge patch, apply),
// delete and deletecollection, on the object and on its status, scale and
// binding subresources, with dryRun, fieldValidation, fieldManager, Table
// output and YAML bodies. Authentication and authorization happened before.
// rest_handler.cc: routing, get, list, create, update, delete;
// rest_patch.cc: patch; rest_subresources.cc: scale, binding;
// watch_stream.cc: watch; rest_request.{h,cc}: what they share.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/apiserver/https_server.h"
#include "controlplane/apiserver/namespace_lifecycle.h"
#include "controlplane/apiserver/request_info.h"
#include "controlplane/apiserver/resource_storage.h"
#include "controlplane/apiserver/rest_request.h"
#include "controlplane/apiserver/table.h"
#include "controlplane/apiserver/watch_cache.h"

namespace berth::apiserver {

class RestHandler {
 public:
  RestHandler(store::Store* store, NamespaceLifecycle* namespaces, absl::Duration bookmark_interval)
      : store_(store), namespaces_(namespaces), bookmark_interval_(bookmark_interval) {}

  void Serve(const RestRequest& r, ResourceStorage* storage, WatchCache* cache);

 private:
  void Get(const RestRequest& r, ResourceStorage* storage);
  void List(const RestRequest& r, ResourceStorage* storage, WatchCache* cache);
  // A list that need not be consistent (resourceVersion=0, or NotOlderThan a
  // revision the cache has), from the watch cache; false when it cannot be.
  bool ListFromCache(const RestRequest& r, ResourceStorage* storage, WatchCache* cache, const ListQuery& query);
  void Watch(const RestRequest& r, ResourceStorage* storage, WatchCache* cache);
  void Create(const RestRequest& r, ResourceStorage* storage);
  void Update(const RestRequest& r, ResourceStorage* storage);
  void Patch(const RestRequest& r, ResourceStorage* storage);
  void Delete(const RestRequest& r, ResourceStorage* storage);
  void DeleteCollection(const RestRequest& r, ResourceStorage* storage);
  void Scale(const RestRequest& r, ResourceStorage* storage);
  void Bind(const RestRequest& r, ResourceStorage* storage);

  store::Store* store_;
  NamespaceLifecycle* namespaces_;
  absl::Duration bookmark_interval_;
};

}  // namespace berth::apiserver
