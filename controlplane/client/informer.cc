#include "controlplane/client/informer.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace berth::client {

using nlohmann::json;

namespace {

std::string ResourceVersionOf(const json& obj) {
  return obj.value("metadata", json::object()).value("resourceVersion", "");
}

}  // namespace

Informer::Informer(ApiClient* client, ResourceRef ref, InformerOptions options)
    : client_(client), ref_(std::move(ref)), options_(std::move(options)) {}

Informer::~Informer() {
  Stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Informer::AddHandlers(InformerHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::Start() { thread_ = std::thread([this] { Run(); }); }

void Informer::Stop() {
  std::unique_ptr<WatchStream> watch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    watch = std::move(watch_);
    cv_.notify_all();
  }
  if (watch) watch->Stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return synced_; });
}

std::string Informer::KeyOf(const json& obj) {
  const json& meta = obj.value("metadata", json::object());
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

std::optional<json> Informer::Get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(ns.empty() ? name : absl::StrCat(ns, "/", name));
  if (it == cache_.end()) return std::nullopt;
  return *it->second;
}

std::vector<json> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<json> out;
  out.reserve(cache_.size());
  for (const auto& [key, obj] : cache_) out.push_back(*obj);
  return out;
}

size_t Informer::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

std::string Informer::LastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resource_version_;
}

void Informer::Dispatch(const std::function<void(const InformerHandlers&)>& call) {
  for (const auto& h : handlers_) call(h);
}

void Informer::Run() {
  absl::Duration backoff = options_.min_relist_backoff;
  auto wait_backoff = [&] {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [&] { return stopping_; });
    backoff = std::min(backoff * 2, options_.max_relist_backoff);
  };
  while (true) {
    Next next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      next = next_;
      watch_ended_ = false;
    }
    if (next == Next::kList) {
      absl::Status listed = ListAndReplace();
      if (!listed.ok()) {
        BERTH_LOG(Warning) << "informer: list failed" << Kv("resource", ref_.resource) << Kv("error", listed.ToString());
        wait_backoff();
        continue;
      }
    }
    absl::Status watching = StartWatch();
    if (!watching.ok()) {
      BERTH_LOG(Warning) << "informer: watch failed" << Kv("resource", ref_.resource) << Kv("error", watching.ToString());
      {
        std::lock_guard<std::mutex> lock(mu_);
        next_ = Next::kList;
      }
      // 410 Gone: list again at once; another failure: back off first.
      if (watching.code() != absl::StatusCode::kOutOfRange) wait_backoff();
      continue;
    }
    backoff = options_.min_relist_backoff;
    std::unique_ptr<WatchStream> ended;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || watch_ended_; });
      if (stopping_) return;
      ended = std::move(watch_);
    }
    ended.reset();  // it ended by itself; this only releases it
  }
}

absl::Status Informer::ListAndReplace() {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  absl::StatusOr<json> list = client_->List(ref_, options_.ns, list_options);
  if (!list.ok()) return list.status();
  std::string kind = list->value("kind", "");
  if (absl::EndsWith(kind, "List")) kind.resize(kind.size() - 4);
  std::string api_version = list->value("apiVersion", "");
  std::map<std::string, std::shared_ptr<const json>> fresh;
  json& items = (*list)["items"];
  if (items.is_array()) {
    for (auto& item : items) {
      if (!item.contains("kind")) item["kind"] = kind;
      if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
      std::string key = KeyOf(item);
      fresh.emplace(std::move(key), std::make_shared<const json>(std::move(item)));
    }
  }
  struct Change {
    enum { kAdd, kUpdate, kDelete } type;
    std::shared_ptr<const json> old_obj, new_obj;
  };
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, obj] : fresh) {
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        changes.push_back({Change::kAdd, nullptr, obj});
      } else if (ResourceVersionOf(*it->second) != ResourceVersionOf(*obj)) {
        changes.push_back({Change::kUpdate, it->second, obj});
      }
    }
    for (const auto& [key, obj] : cache_) {
      if (!fresh.count(key)) changes.push_back({Change::kDelete, obj, nullptr});
    }
    cache_ = std::move(fresh);
    resource_version_ = (*list)["metadata"].value("resourceVersion", "");
  }
  for (const auto& c : changes) {
    Dispatch([&](const InformerHandlers& h) {
      if (c.type == Change::kAdd && h.on_add) h.on_add(*c.new_obj);
      if (c.type == Change::kUpdate && h.on_update) h.on_update(*c.old_obj, *c.new_obj);
      if (c.type == Change::kDelete && h.on_delete) h.on_delete(*c.old_obj);
    });
  }
  std::lock_guard<std::mutex> lock(mu_);
  synced_ = true;
  cv_.notify_all();
  return absl::OkStatus();
}

absl::Status Informer::StartWatch() {
  ListOptions watch_options;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.allow_watch_bookmarks = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    watch_options.resource_version = resource_version_;
  }
  absl::StatusOr<std::unique_ptr<WatchStream>> watch = client_->Watch(
      ref_, options_.ns, watch_options, [this](WatchEvent event) { OnEvent(std::move(event)); },
      [this](absl::Status reason) { OnWatchEnd(std::move(reason)); });
  if (!watch.ok()) return watch.status();
  std::unique_ptr<WatchStream> stop_now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      stop_now = std::move(*watch);
    } else {
      watch_ = std::move(*watch);
    }
  }
  if (stop_now) stop_now->Stop();
  return absl::OkStatus();
}

void Informer::OnEvent(WatchEvent event) {
  std::string rv = ResourceVersionOf(event.object);
  if (event.type == WatchEvent::Type::kBookmark) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    return;
  }
  std::string key = KeyOf(event.object);
  auto obj = std::make_shared<const json>(std::move(event.object));
  std::shared_ptr<const json> old_obj;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    auto it = cache_.find(key);
    if (event.type == WatchEvent::Type::kDeleted) {
      if (it != cache_.end()) cache_.erase(it);
    } else if (it != cache_.end()) {
      old_obj = std::exchange(it->second, obj);
    } else {
      cache_.emplace(key, obj);
    }
  }
  if (event.type == WatchEvent::Type::kDeleted) {
    Dispatch([&](const InformerHandlers& h) {
      if (h.on_delete) h.on_delete(*obj);
    });
  } else if (old_obj) {
    Dispatch([&](const InformerHandlers& h) {
      if (h.on_update) h.on_update(*old_obj, *obj);
    });
  } else {
    Dispatch([&](const InformerHandlers& h) {
      if (h.on_add) h.on_add(*obj);
    });
  }
}

void Informer::OnWatchEnd(absl::Status reason) {
  if (!reason.ok()) {
    BERTH_LOG(Info) << "informer: watch ended, listing again" << Kv("resource", ref_.resource)
                    << Kv("reason", reason.ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Closed normally: resume from the last version; 410 or an error: list.
  next_ = reason.ok() ? Next::kWatch : Next::kList;
  watch_ended_ = true;
  cv_.notify_all();
}

}  // namespace berth::client
