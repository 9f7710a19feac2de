#include "controlplane/apiserver/api_server.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/k8s/kinds/kind_registry.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/apiserver/object_meta.h"
#include "controlplane/apiserver/table.h"
#if __has_include("api/k8s/kinds/openapi.h")
#include "api/k8s/kinds/openapi.h"
#define BERTH_HAVE_OPENAPI 1
#endif

namespace berth::apiserver {

using nlohmann::json;

namespace {

std::string ServedKey(absl::string_view group, absl::string_view version, absl::string_view resource) {
  return absl::StrCat(group, "/", version, "/", resource);
}

ApiError PathNotFound() {
  ApiError e = NotFoundError(ErrorTarget{});
  e.message = "the server could not find the requested resource";
  e.details = nullptr;
  return e;
}

ExtraResource AccessReviewResource(const char* name, const char* kind) {
  return ExtraResource{"authorization.k8s.io", "v1",
                       json{{"name", name}, {"singularName", ""}, {"namespaced", false}, {"kind", kind},
                            {"verbs", {"create"}}}};
}

}  // namespace

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options, store::Store* store) {
  std::unique_ptr<ApiServer> server(new ApiServer());
  server->options_ = options;
  server->store_ = store;
  if (!options.token_auth_file.empty()) {
    ASSIGN_OR_RETURN(server->tokens_, TokenAuthenticator::LoadFile(options.token_auth_file));
  }
  if (!options.encryption_provider_config.empty()) {
    ASSIGN_OR_RETURN(server->encryption_, EncryptionConfig::LoadFile(options.encryption_provider_config));
  }
  ResourceStorage* namespaces = nullptr;
  WatchCache* namespaces_cache = nullptr;
  ResourceStorage* pods = nullptr;
  std::vector<ResourceStorage*> namespaced;
  for (const auto& kind : k8s::kinds::AllKinds()) {
    const ValueTransformer* transformer =
        server->encryption_ ? server->encryption_->For(QualifiedResource(kind.group, kind.resource)) : nullptr;
    auto storage = std::make_unique<ResourceStorage>(kind, store, transformer);
    ASSIGN_OR_RETURN(auto cache,
                     WatchCache::Start(store, storage->KeyPrefix(), storage->Decoder(), options.watch_cache));
    server->served_[ServedKey(kind.group, kind.version, kind.resource)] = Served{storage.get(), cache.get()};
    if (kind.group.empty() && kind.resource == "namespaces") {
      namespaces = storage.get();
      namespaces_cache = cache.get();
    }
    if (kind.group.empty() && kind.resource == "pods") pods = storage.get();
    if (kind.group.empty() && kind.resource == "secrets") {
      ResourceStorage* secrets = storage.get();
      server->bootstrap_tokens_ = std::make_unique<BootstrapTokenAuthenticator>(
          [secrets](const std::string& name) -> std::optional<nlohmann::json> {
            auto secret = secrets->Get("kube-system", name);
            if (!secret.ok()) return std::nullopt;
            return std::move(*secret);
          });
    }
    if (kind.namespaced) namespaced.push_back(storage.get());
    server->caches_.push_back(std::move(cache));
    server->storages_.push_back(std::move(storage));
  }
  if (namespaces == nullptr) {
    return absl::FailedPreconditionError("the kind registry has no core/v1 namespaces");
  }
  server->node_graph_ = pods ? std::make_unique<StoreNodeGraph>(pods) : nullptr;
  server->authorizer_ = std::make_unique<Authorizer>(server->node_graph_.get());
  server->namespaces_ = std::make_unique<NamespaceLifecycle>(namespaces, namespaced);
  server->namespaces_->UseCache(namespaces_cache);
  RETURN_IF_ERROR(server->namespaces_->Start());
  server->discovery_ = std::make_unique<Discovery>(
      k8s::kinds::AllKinds(),
      std::vector<ExtraResource>{AccessReviewResource("selfsubjectaccessreviews", "SelfSubjectAccessReview")});
  server->rest_ = std::make_unique<RestHandler>(store, server->namespaces_.get(), options.bookmark_interval);
  if (!options.serve_https) return server;
  ApiServer* raw = server.get();
  ASSIGN_OR_RETURN(server->https_, HttpsServer::Start(options.https, [raw](const HttpRequest& request,
                                                                            ResponseWriter& writer) {
                     raw->Handle(request, writer);
                   }));
  return server;
}

ApiServer::~ApiServer() {
  https_.reset();
  namespaces_.reset();
  caches_.clear();
}

ApiServer::Served ApiServer::Find(const std::string& group, const std::string& version,
                                  const std::string& resource) {
  auto it = served_.find(ServedKey(group, version, resource));
  return it == served_.end() ? Served{} : it->second;
}

void ApiServer::Handle(const HttpRequest& request, ResponseWriter& writer) {
  // Authentication.
  UserInfo user;
  std::string token = BearerToken(request.Header("authorization"));
  if (request.certificate_user) {
    user = *request.certificate_user;
  } else if (!token.empty()) {
    const UserInfo* found = tokens_ ? tokens_->Authenticate(token) : nullptr;
    std::optional<UserInfo> bootstrap;
    if (found == nullptr && bootstrap_tokens_ && BootstrapTokenAuthenticator::LooksLikeBootstrapToken(token)) {
      bootstrap = bootstrap_tokens_->Authenticate(token);
      found = bootstrap ? &*bootstrap : nullptr;
    }
    if (found == nullptr) return WriteError(writer, UnauthorizedError());
    user = *found;
  } else {
    user = AnonymousUser();
  }
  QueryParams query = ParseQuery(request.query);
  RequestInfo info = ParseRequestInfo(request.method, request.path, query);

  // Authorization.
  Attributes attributes;
  attributes.user = user;
  attributes.verb = info.verb;
  attributes.resource_request = info.is_resource_request;
  attributes.group = info.group;
  attributes.resource = info.resource;
  attributes.subresource = info.subresource;
  attributes.ns = info.namespace_;
  attributes.name = info.name;
  attributes.path = info.path;
  Decision decision = authorizer_->Authorize(attributes);
  if (!decision.allowed) {
    BERTH_LOG(Info) << "apiserver: refused" << Kv("user", user.name) << Kv("verb", info.verb)
                    << Kv("path", info.path) << Kv("reason", decision.reason);
    if (user.anonymous()) return WriteError(writer, UnauthorizedError());
    if (!info.is_resource_request) {
      ApiError e = ForbiddenError(user.name, info.verb, ErrorTarget{}, "");
      e.message = absl::StrCat("forbidden: User \"", user.name, "\" cannot ", info.verb, " path \"", info.path, "\"");
      return WriteError(writer, e);
    }
    return WriteError(writer, ForbiddenError(user.name, info.verb,
                                             ErrorTarget{info.group, info.resource, "", info.name}, info.namespace_,
                                             info.subresource, decision.reason));
  }
  if (!info.is_resource_request) return HandleNonResource(request, info, writer);
  if (info.group == "authorization.k8s.io" && info.version == "v1" &&
      info.resource == "selfsubjectaccessreviews") {
    return HandleAccessReview(request, info, user, writer);
  }
  Served served = Find(info.group, info.version, info.resource);
  if (served.storage == nullptr) return WriteError(writer, PathNotFound());
  // A node may create only its own Node object (NodeRestriction).
  if (auto node = Authorizer::NodeName(user);
      node && info.group.empty() && info.resource == "nodes" && info.verb == "create") {
    json body = json::parse(request.body, nullptr, false);
    std::string name = body.is_object() ? MetaString(body, "name") : "";
    if (name != *node) {
      return WriteError(writer, ForbiddenError(user.name, "create", ErrorTarget{"", "nodes", "", name}, "", "",
                                               absl::StrCat("node \"", *node, "\" may only create its own Node")));
    }
  }
  MediaType type = NegotiateResponse(request.Header("accept"));
  if (type == MediaType::kUnsupported) return WriteError(writer, NotAcceptableError(request.Header("accept")));
  if (type == MediaType::kTable && info.verb != "get" && info.verb != "list" && info.verb != "watch") {
    type = MediaType::kJson;
  }
  if (type == MediaType::kTable && !ValidIncludeObject(QueryValue(query, "includeObject"))) {
    return WriteError(writer, BadRequestError(absl::StrCat("includeObject: Unsupported value: \"",
                                                           QueryValue(query, "includeObject"),
                                                           "\": supported values: \"None\", \"Metadata\", \"Object\"")));
  }
  RestRequest rest{request, writer, info, query, type};
  rest_->Serve(rest, served.storage, served.cache);
}

void ApiServer::HandleNonResource(const HttpRequest& request, const RequestInfo& info, ResponseWriter& writer) {
  const std::string& path = info.path;
  if (request.method != "GET" && request.method != "HEAD") {
    return WriteError(writer, MethodNotAllowedError(request.method, path));
  }
  if (path == "/healthz" || path == "/livez" || path == "/readyz" || absl::StartsWith(path, "/healthz/") ||
      absl::StartsWith(path, "/livez/") || absl::StartsWith(path, "/readyz/")) {
    auto revision = store_->CurrentRevision();
    if (!revision.ok() && !absl::StartsWith(path, "/livez")) {
      return writer.Send(500, {{"Content-Type", "text/plain; charset=utf-8"}},
                         absl::StrCat("[-]etcd failed: ", revision.status().message(), "\n"));
    }
    return writer.Send(200, {{"Content-Type", "text/plain; charset=utf-8"}}, "ok");
  }
  if (path == "/version") {
    json version = {{"major", "1"},           {"minor", "32"},         {"gitVersion", options_.git_version},
                    {"gitCommit", ""},        {"gitTreeState", "clean"}, {"buildDate", "1970-01-01T00:00:00Z"},
                    {"goVersion", "none"},    {"compiler", "g++"},     {"platform", "linux/amd64"}};
    return WriteObject(writer, 200, version, MediaType::kJson);
  }
#ifdef BERTH_HAVE_OPENAPI
  if (path == "/openapi/v2") {
    // kubectl's v2 client asks for protobuf only and cannot read JSON.
    if (NegotiateResponse(request.Header("accept")) != MediaType::kJson) {
      return WriteError(writer, NotAcceptableError(request.Header("accept")));
    }
    return WriteObject(writer, 200, k8s::kinds::OpenApiV2(), MediaType::kJson);
  }
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    return WriteObject(writer, 200, k8s::kinds::OpenApiV3Paths(), MediaType::kJson);
  }
  if (absl::StartsWith(path, "/openapi/v3/")) {
    std::string gv = path.substr(strlen("/openapi/v3/"));
    std::string group, version;
    if (absl::StartsWith(gv, "api/")) {
      version = gv.substr(4);
    } else if (absl::StartsWith(gv, "apis/") && gv.find('/', 5) != std::string::npos) {
      group = gv.substr(5, gv.find('/', 5) - 5);
      version = gv.substr(gv.find('/', 5) + 1);
    }
    const json& doc = k8s::kinds::OpenApiV3(group, version);
    if (!version.empty() && !doc.is_null()) {
      std::string hash = k8s::kinds::OpenApiV3Hash(group, version);
      Headers headers = {{"ETag", absl::StrCat("\"", hash, "\"")}};
      if (QueryValue(ParseQuery(request.query), "hash") == hash) {
        headers.push_back({"Cache-Control", "public, immutable"});
      } else {
        headers.push_back({"Cache-Control", "no-cache, private"});
      }
      return WriteObject(writer, 200, doc, MediaType::kJson, headers);
    }
  }
#endif
  if (path == "/api" || path == "/api/") {
    return WriteObject(writer, 200,
                       discovery_->CoreVersions(absl::StrCat(options_.https.bind_address, ":", port())),
                       MediaType::kJson);
  }
  if (path == "/apis" || path == "/apis/") return WriteObject(writer, 200, discovery_->Groups(), MediaType::kJson);
  if (!info.version.empty()) {
    if (auto resources = discovery_->Resources(info.group, info.version)) {
      return WriteObject(writer, 200, *resources, MediaType::kJson);
    }
  }
  if (info.api_prefix.empty() && absl::StartsWith(path, "/apis/")) {
    std::string group = path.substr(6);
    if (!group.empty() && group.back() == '/') group.pop_back();
    for (const auto& g : discovery_->Groups()["groups"]) {
      if (g.value("name", "") == group) {
        json out = g;
        out["kind"] = "APIGroup";
        out["apiVersion"] = "v1";
        return WriteObject(writer, 200, out, MediaType::kJson);
      }
    }
  }
  WriteError(writer, PathNotFound());
}

void ApiServer::HandleAccessReview(const HttpRequest& request, const RequestInfo& info, const UserInfo& user,
                                   ResponseWriter& writer) {
  if (info.verb != "create") return WriteError(writer, MethodNotAllowedError(request.method, info.path));
  Result<json> body = DecodeBody(request);
  if (!body.ok()) return WriteError(writer, body.error());
  const json& spec = body->value("spec", json::object());
  Attributes a;
  a.user = user;
  if (spec.contains("resourceAttributes") && spec["resourceAttributes"].is_object()) {
    const json& r = spec["resourceAttributes"];
    a.resource_request = true;
    a.verb = r.value("verb", "");
    a.group = r.value("group", "");
    a.resource = r.value("resource", "");
    a.subresource = r.value("subresource", "");
    a.ns = r.value("namespace", "");
    a.name = r.value("name", "");
  } else if (spec.contains("nonResourceAttributes") && spec["nonResourceAttributes"].is_object()) {
    a.verb = spec["nonResourceAttributes"].value("verb", "");
    a.path = spec["nonResourceAttributes"].value("path", "");
  } else {
    return WriteError(writer, InvalidError(ErrorTarget{"authorization.k8s.io", "selfsubjectaccessreviews",
                                                       "SelfSubjectAccessReview", ""},
                                           {{"FieldValueRequired", "spec.resourceAttributes",
                                             "Required value: exactly one of nonResourceAttributes or "
                                             "resourceAttributes must be specified"}}));
  }
  Decision d = authorizer_->Authorize(a);
  json out = *body;
  out["apiVersion"] = "authorization.k8s.io/v1";
  out["kind"] = "SelfSubjectAccessReview";
  if (!out.contains("metadata")) out["metadata"] = json::object();
  out["metadata"]["creationTimestamp"] = nullptr;
  out["status"] = {{"allowed", d.allowed}};
  if (!d.reason.empty()) out["status"]["reason"] = d.reason;
  WriteObject(writer, 201, out, MediaType::kJson);
}

}  // namespace berth::apiserver
