// berth's Kubernetes API server: the HTTPS listener, authentication (client
// certificates, static bearer tokens, anonymous for health and version),
// authorization (system:masters, the Node authorizer), discovery, version
// and health endpoints, SelfSubjectAccessReview, and the REST verbs on every
// kind in api/k8s/kinds over one store, with a watch cache per resource and
// encryption at rest for the resources the encryption config names.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/apiserver/authentication.h"
#include "controlplane/apiserver/bootstrap_token_auth.h"
#include "controlplane/apiserver/authorization.h"
#include "controlplane/apiserver/discovery.h"
#include "controlplane/apiserver/encryption.h"
#include "controlplane/apiserver/https_server.h"
#include "controlplane/apiserver/namespace_lifecycle.h"
#include "controlplane/apiserver/node_graph.h"
#include "controlplane/apiserver/resource_storage.h"
#include "controlplane/apiserver/rest_handler.h"
#include "controlplane/apiserver/watch_cache.h"
#include "controlplane/store/store.h"

namespace berth::apiserver {

struct ApiServerOptions {
  HttpsServerOptions https;
  std::string token_auth_file;             // --token-auth-file
  std::string encryption_provider_config;  // --encryption-provider-config
  WatchCacheOptions watch_cache;
  absl::Duration bookmark_interval = absl::Minutes(1);
  std::string git_version = "v1.32.0-berth";
  // false: no HTTPS listener (an in-process server for LocalApiClient tests).
  bool serve_https = true;
};

class ApiServer {
 public:
  // Creates the system namespaces, starts a watch cache per resource and
  // listens. The store must outlive the server.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options, store::Store* store);
  ~ApiServer();

  int port() const { return https_ ? https_->port() : 0; }

  // One request, as the HTTPS server hands it over (public for tests).
  void Handle(const HttpRequest& request, ResponseWriter& writer);

 private:
  ApiServer() = default;
  struct Served {
    ResourceStorage* storage = nullptr;
    WatchCache* cache = nullptr;
  };
  Served Find(const std::string& group, const std::string& version, const std::string& resource);
  void HandleNonResource(const HttpRequest& request, const RequestInfo& info, ResponseWriter& writer);
  void HandleAccessReview(const HttpRequest& request, const RequestInfo& info, const UserInfo& user,
                          ResponseWriter& writer);

  ApiServerOptions options_;
  store::Store* store_ = nullptr;
  std::unique_ptr<TokenAuthenticator> tokens_;
  std::unique_ptr<BootstrapTokenAuthenticator> bootstrap_tokens_;
  std::unique_ptr<EncryptionConfig> encryption_;
  std::vector<std::unique_ptr<ResourceStorage>> storages_;
  std::map<std::string, Served> served_;  // "group/version/resource"
  std::vector<std::unique_ptr<WatchCache>> caches_;
  std::unique_ptr<StoreNodeGraph> node_graph_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<NamespaceLifecycle> namespaces_;
  std::unique_ptr<Discovery> discovery_;
  std::unique_ptr<RestHandler> rest_;
  std::unique_ptr<HttpsServer> https_;  // last: stops first
};

}  // namespace berth::apiserver
