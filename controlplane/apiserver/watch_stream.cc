#include "controlplane/apiserver/watch_stream.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controlplane/apiserver/object_meta.h"
#include "controlplane/apiserver/rest_handler.h"

namespace berth::apiserver {

using nlohmann::json;

WatchStream::WatchStream(const ResourceStorage* storage, std::unique_ptr<EventSource> source,
                         WatchStreamOptions options)
    : storage_(storage), source_(std::move(source)), options_(std::move(options)), last_bookmark_(absl::Now()) {}

WatchStream::~WatchStream() { source_->Stop(); }

void WatchStream::Add(const char* type, const CachedEvent& e) {
  if (!options_.table) {
    if (e.object_json.empty()) {  // an initial event, sent once
      absl::StrAppend(&batch_, "{\"type\":\"", type, "\",\"object\":", e.object->dump(), "}\n");
    } else {
      // The object's JSON was encoded once by the watch cache and is
      // shared by every watcher.
      batch_ += WatchEventLine(type, e);
    }
    return;
  }
  const json& obj = *e.object;
  json out_obj = ToTable(storage_->kind(), {&obj}, options_.include_object,
                         {{"resourceVersion", MetaString(obj, "resourceVersion")}});
  absl::StrAppend(&batch_, json{{"type", type}, {"object", std::move(out_obj)}}.dump(), "\n");
}

bool WatchStream::Flush(ResponseWriter& writer) {
  bool ok = writer.WriteChunk(batch_);
  batch_.clear();
  return ok;
}

bool WatchStream::Bookmark(ResponseWriter& writer, int64_t revision, bool initial_end) {
  const auto& kind = storage_->kind();
  json meta = {{"resourceVersion", std::to_string(revision)}};
  if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  json obj = {{"kind", kind.kind}, {"apiVersion", ApiVersionOf(kind)}, {"metadata", meta}};
  return writer.WriteChunk(json{{"type", "BOOKMARK"}, {"object", obj}}.dump() + "\n");
}

bool WatchStream::WriteInitial(ResponseWriter& writer, const std::vector<CachedEventPtr>& initial,
                               bool end_bookmark, int64_t initial_revision) {
  for (const auto& e : initial) {
    Add("ADDED", *e);
    if (batch_.size() >= 64 * 1024 && !Flush(writer)) return false;
  }
  if (!Flush(writer)) return false;
  if (end_bookmark && !Bookmark(writer, initial_revision, true)) return false;
  last_bookmark_ = absl::Now();
  return true;
}

bool WatchStream::SetWake(std::function<void()> wake) { return source_->SetNotify(std::move(wake)); }

bool WatchStream::Pump(ResponseWriter& writer) { return Step(writer, absl::InfinitePast()); }

void WatchStream::Run(ResponseWriter& writer) {
  while (Step(writer, std::min(options_.end, absl::Now() + absl::Seconds(1)))) {
  }
  writer.EndStream();
}

bool WatchStream::Step(ResponseWriter& writer, absl::Time deadline) {
  if (absl::Now() >= options_.end) return false;
  auto events = source_->Next(deadline);
  if (!events.ok()) return false;  // cache restarted or watcher too slow: the client re-watches
  for (const auto& e : *events) {
    bool now_matches = storage_->Matches(*e->object, options_.labels, options_.fields);
    bool was = e->prev && storage_->Matches(*e->prev, options_.labels, options_.fields);
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
    if (type != nullptr) Add(type, *e);
  }
  if (!Flush(writer)) return false;
  if (events->empty()) {
    if (writer.ClientGone()) return false;
    if (options_.bookmarks && absl::Now() - last_bookmark_ >= options_.bookmark_interval) {
      if (!Bookmark(writer, source_->ProgressRevision(), false)) return false;
      last_bookmark_ = absl::Now();
    }
  }
  return true;
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
  WatchStreamOptions options;
  options.labels = std::move(query.labels);
  options.fields = std::move(query.fields);
  options.table = table;
  options.include_object = include;
  options.bookmarks = bookmarks;
  options.bookmark_interval = bookmark_interval_;
  options.end = absl::Now() + absl::Seconds(timeout_seconds);
  auto stream = std::make_shared<WatchStream>(storage, std::move(source), std::move(options));
  if (!stream->WriteInitial(r.writer, initial, send_initial && bookmarks, from - 1)) return;
  // On the HTTPS server the stream goes on in its event loop, holding no
  // thread while it waits for events.
  if (r.writer.Continue(stream)) return;
  stream->Run(r.writer);
}

}  // namespace berth::apiserver
