#include "controlplane/apiserver/namespace_lifecycle.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "controlplane/apiserver/object_meta.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

const char* const kSystemNamespaces[] = {"default", "kube-system", "kube-public", "kube-node-lease"};

bool Terminating(const json& ns) {
  return ns.value("status", json::object()).value("phase", "") == "Terminating" ||
         ns.value("metadata", json::object()).contains("deletionTimestamp");
}

}  // namespace

NamespaceLifecycle::NamespaceLifecycle(ResourceStorage* namespaces, std::vector<ResourceStorage*> contents,
                                       absl::Duration retry_interval)
    : namespaces_(namespaces), contents_(std::move(contents)), retry_interval_(retry_interval) {}

NamespaceLifecycle::~NamespaceLifecycle() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NamespaceLifecycle::PrepareCreate(json& obj) {
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
  obj["spec"]["finalizers"] = json::array({"kubernetes"});
  obj["status"] = {{"phase", "Active"}};
}

absl::Status NamespaceLifecycle::Start() {
  for (const char* name : kSystemNamespaces) {
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    PrepareCreate(ns);
    Result<json> created = namespaces_->Create("", ns, WriteOptions{});
    if (!created.ok() && created.error().reason != "AlreadyExists") {
      return absl::InternalError(absl::StrCat("create namespace ", name, ": ", created.error().message));
    }
  }
  thread_ = std::thread([this] { Run(); });
  Result<json> all = namespaces_->List("", ListQuery{});
  if (all.ok()) {
    for (const auto& ns : (*all)["items"]) {
      if (Terminating(ns)) Enqueue(MetaString(ns, "name"));
    }
  }
  return absl::OkStatus();
}

Result<json> NamespaceLifecycle::Lookup(const std::string& ns) {
  if (cache_ != nullptr) {
    auto cached = cache_->StateObject(namespaces_->Key("", ns));
    if (cached.ok()) {
      json obj = json::parse(**cached, nullptr, false);
      if (!obj.is_discarded()) return obj;
    }
  }
  return namespaces_->Get("", ns);
}

std::optional<ApiError> NamespaceLifecycle::AdmitCreate(const std::string& ns, const ErrorTarget& target) {
  Result<json> found = Lookup(ns);
  if (!found.ok()) {
    if (found.error().code == 404) {
      return NotFoundError(ErrorTarget{"", "namespaces", "Namespace", ns});
    }
    return found.error();
  }
  if (Terminating(*found)) {
    ApiError e = ForbiddenError("", "create", target, ns);
    e.message = absl::StrCat(QualifiedResource(target.group, target.resource), " \"", target.name,
                             "\" is forbidden: unable to create new content in namespace ", ns,
                             " because it is being terminated");
    e.details["causes"] = json::array({{{"reason", "NamespaceTerminating"},
                                        {"message", absl::StrCat("namespace ", ns, " is being terminated")},
                                        {"field", "metadata.namespace"}}});
    return e;
  }
  return std::nullopt;
}

Result<json> NamespaceLifecycle::Delete(const std::string& name, const DeleteOptions& options) {
  for (const char* system : {"default", "kube-system", "kube-public"}) {
    if (name == system) {
      ApiError e = ForbiddenError("", "delete", namespaces_->Target(name), "");
      e.message = absl::StrCat("namespaces \"", name, "\" is forbidden: this namespace may not be deleted");
      return e;
    }
  }
  WriteOptions write;
  write.dry_run = options.dry_run;
  Result<json> marked = namespaces_->Update(
      "", name, WritePart::kAll,
      [&](const json& current) -> Result<json> {
        if (!options.precondition_uid.empty() &&
            options.precondition_uid != MetaString(current, "uid")) {
          return ConflictError(namespaces_->Target(name), "Precondition failed: UID mismatch");
        }
        json obj = current;
        obj["metadata"].erase("resourceVersion");
        if (!obj["metadata"].contains("deletionTimestamp")) obj["metadata"]["deletionTimestamp"] = NowRfc3339();
        obj["metadata"]["deletionGracePeriodSeconds"] = 0;
        obj["status"]["phase"] = "Terminating";
        return obj;
      },
      write);
  if (marked.ok() && !options.dry_run) Enqueue(name);
  return marked;
}

void NamespaceLifecycle::Enqueue(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(name);
  }
  cv_.notify_all();
}

bool NamespaceLifecycle::CleanupOnce(const std::string& name) {
  size_t remaining = 0;
  for (ResourceStorage* storage : contents_) {
    Result<json> list = storage->List(name, ListQuery{});
    if (!list.ok()) {
      ++remaining;
      continue;
    }
    for (const auto& item : (*list)["items"]) {
      Result<json> deleted = storage->Delete(name, MetaString(item, "name"), DeleteOptions{});
      if (deleted.ok() && MetaString(*deleted, "deletionTimestamp").empty()) continue;
      if (!deleted.ok() && deleted.error().code == 404) continue;
      ++remaining;  // marked (graceful, finalizers) or failed: look again later
    }
  }
  if (remaining > 0) return false;
  // Empty: the namespace itself goes (its spec.finalizers only held it for this).
  Result<json> removed = namespaces_->Delete("", name, DeleteOptions{});
  return removed.ok() || removed.error().code == 404;
}

void NamespaceLifecycle::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    std::string name = queue_.front();
    queue_.pop_front();
    lock.unlock();
    bool done = CleanupOnce(name);
    lock.lock();
    if (done) {
      BERTH_LOG(Info) << "namespace removed" << Kv("namespace", name);
      continue;
    }
    // Objects still held by finalizers or graceful deletion: look again later
    // (or sooner when another deletion is queued).
    cv_.wait_for(lock, absl::ToChronoNanoseconds(retry_interval_), [this] { return stopping_; });
    queue_.push_back(name);
  }
}

}  // namespace berth::apiserver
