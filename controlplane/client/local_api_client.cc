#include "controlplane/client/local_api_client.h"

#include <condition_variable>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/apiserver/request_info.h"
#include "controlplane/client/watch_event_line.h"

namespace berth::client {

using nlohmann::json;

namespace {

std::string PercentEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A response answered with one Send.
class CapturedResponse : public apiserver::ResponseWriter {
 public:
  void Send(int status, const apiserver::Headers&, std::string body) override {
    status_ = status;
    body_ = std::move(body);
  }
  bool BeginStream(int, const apiserver::Headers&) override { return false; }
  bool WriteChunk(absl::string_view) override { return false; }
  void EndStream() override {}
  bool ClientGone() override { return true; }

  int status() const { return status_; }
  const std::string& body() const { return body_; }

 private:
  int status_ = 500;
  std::string body_;
};

}  // namespace

std::string ListQueryString(const ListOptions& options, bool watch) {
  std::vector<std::string> parts;
  if (watch) parts.push_back("watch=1");
  if (!options.label_selector.empty()) parts.push_back("labelSelector=" + PercentEncode(options.label_selector));
  if (!options.field_selector.empty()) parts.push_back("fieldSelector=" + PercentEncode(options.field_selector));
  if (options.limit > 0) parts.push_back(absl::StrCat("limit=", options.limit));
  if (!options.continue_token.empty()) parts.push_back("continue=" + PercentEncode(options.continue_token));
  if (!options.resource_version.empty()) {
    parts.push_back("resourceVersion=" + PercentEncode(options.resource_version));
  }
  if (watch && options.allow_watch_bookmarks) parts.push_back("allowWatchBookmarks=true");
  if (watch && options.timeout_seconds > 0) parts.push_back(absl::StrCat("timeoutSeconds=", options.timeout_seconds));
  return absl::StrJoin(parts, "&");
}

// What a watch's thread and its stream share.
struct LocalApiClient::WatchState {
  std::mutex deliver_mu;  // held while a handler runs; Stop waits on it
  std::atomic<bool> stopped{false};
  std::atomic<bool> done{false};
  std::atomic<std::thread::id> thread_id{};
  WatchHandler on_event;
  WatchEndHandler on_end;

  // Runs `fn` unless stopped; false once stopped.
  template <typename Fn>
  bool Deliver(Fn&& fn) {
    std::lock_guard<std::mutex> lock(deliver_mu);
    if (stopped.load()) return false;
    fn();
    return true;
  }

  void Stop() {
    if (std::this_thread::get_id() == thread_id.load()) {
      stopped.store(true);  // from a handler: the lock is ours already
      return;
    }
    std::lock_guard<std::mutex> lock(deliver_mu);
    stopped.store(true);
  }
};

class LocalApiClient::LocalWatchStream : public WatchStream {
 public:
  explicit LocalWatchStream(std::shared_ptr<WatchState> state) : state_(std::move(state)) {}
  ~LocalWatchStream() override { Stop(); }
  void Stop() override { state_->Stop(); }

 private:
  std::shared_ptr<WatchState> state_;
};

// The watch's chunked response, turned back into events line by line.
class LocalApiClient::StreamWriter : public apiserver::ResponseWriter {
 public:
  explicit StreamWriter(WatchState* state) : state_(state) {}

  void Send(int status, const apiserver::Headers&, std::string body) override {
    end_ = StatusFromResponse(status, body);
  }
  bool BeginStream(int, const apiserver::Headers&) override { return !state_->stopped.load(); }
  bool WriteChunk(absl::string_view data) override {
    pending_.append(data.data(), data.size());
    size_t start = 0;
    for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
      if (!Line(absl::string_view(pending_).substr(start, nl - start))) return false;
      start = nl + 1;
    }
    pending_.erase(0, start);
    return !state_->stopped.load();
  }
  void EndStream() override {}
  bool ClientGone() override { return state_->stopped.load(); }

  const absl::Status& end() const { return end_; }

 private:
  bool Line(absl::string_view line) {
    if (line.empty()) return true;
    absl::StatusOr<WatchEvent> event = DecodeWatchEventLine(line);
    if (!event.ok()) {  // ERROR (410 Gone: OutOfRange) or a line that is not an event
      end_ = event.status();
      return false;
    }
    return state_->Deliver([&] { state_->on_event(std::move(*event)); });
  }

  WatchState* state_;
  std::string pending_;
  absl::Status end_;
};

LocalApiClient::LocalApiClient(apiserver::ApiServer* server, LocalApiClientOptions options)
    : server_(server), options_(std::move(options)) {}

LocalApiClient::~LocalApiClient() {
  std::list<WatchThread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(watch_threads_);
  }
  for (auto& t : threads) {
    t.state->Stop();
    t.thread.join();
  }
}

apiserver::HttpRequest LocalApiClient::MakeRequest(const std::string& method, const std::string& path,
                                                   const std::string& query, const std::string& content_type,
                                                   const std::string& body) const {
  apiserver::HttpRequest request;
  request.method = method;
  request.path = path;
  request.query = query;
  request.target = query.empty() ? path : absl::StrCat(path, "?", query);
  request.headers["user-agent"] = options_.user_agent;
  request.headers["accept"] = "application/json";
  if (!content_type.empty()) request.headers["content-type"] = content_type;
  request.body = body;
  apiserver::UserInfo user;
  user.name = options_.user;
  user.groups = {"system:masters", "system:authenticated"};
  request.certificate_user = std::move(user);
  request.remote = "local";
  return request;
}

absl::StatusOr<json> LocalApiClient::Call(const std::string& method, const std::string& path,
                                          const std::string& query, const std::string& content_type,
                                          const std::string& body) {
  apiserver::HttpRequest request = MakeRequest(method, path, query, content_type, body);
  CapturedResponse response;
  server_->Handle(request, response);
  if (response.status() < 200 || response.status() >= 300) {
    return StatusFromResponse(response.status(), response.body());
  }
  json parsed = json::parse(response.body(), nullptr, false);
  if (parsed.is_discarded()) {
    return absl::InternalError(absl::StrCat(method, " ", path, ": the response is not JSON"));
  }
  return parsed;
}

absl::StatusOr<json> LocalApiClient::Get(const ResourceRef& ref, const std::string& ns, const std::string& name) {
  return Call("GET", ref.ObjectPath(ns, name), "", "", "");
}

absl::StatusOr<json> LocalApiClient::List(const ResourceRef& ref, const std::string& ns,
                                          const ListOptions& options) {
  return Call("GET", ref.CollectionPath(ns), ListQueryString(options, false), "", "");
}

absl::StatusOr<json> LocalApiClient::Create(const ResourceRef& ref, const std::string& ns, const json& object) {
  return Call("POST", ref.CollectionPath(ns), "", "application/json", object.dump());
}

absl::StatusOr<json> LocalApiClient::Update(const ResourceRef& ref, const std::string& ns, const json& object,
                                            const std::string& subresource) {
  std::string name = object.is_object() ? object.value("metadata", json::object()).value("name", "") : "";
  if (name.empty()) return absl::InvalidArgumentError("update: metadata.name: Required value");
  return Call("PUT", ref.ObjectPath(ns, name, subresource), "", "application/json", object.dump());
}

absl::StatusOr<json> LocalApiClient::Patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                                           PatchType type, const json& patch, const std::string& subresource) {
  return Call("PATCH", ref.ObjectPath(ns, name, subresource), "", PatchContentType(type), patch.dump());
}

absl::StatusOr<json> LocalApiClient::Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                                            const DeleteOptions& options) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty()) body["preconditions"] = {{"uid", options.precondition_uid}};
  return Call("DELETE", ref.ObjectPath(ns, name), "", "application/json", body.dump());
}

absl::StatusOr<json> LocalApiClient::CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                                       const std::string& name, const std::string& subresource,
                                                       const json& body) {
  return Call("POST", ref.ObjectPath(ns, name, subresource), "", "application/json", body.dump());
}

absl::StatusOr<std::unique_ptr<WatchStream>> LocalApiClient::Watch(const ResourceRef& ref, const std::string& ns,
                                                                   const ListOptions& options, WatchHandler on_event,
                                                                   WatchEndHandler on_end) {
  ReapWatchThreads();
  auto state = std::make_shared<WatchState>();
  state->on_event = std::move(on_event);
  state->on_end = std::move(on_end);
  apiserver::HttpRequest request = MakeRequest("GET", ref.CollectionPath(ns), ListQueryString(options, true), "", "");
  // The request is answered before the thread is known to run: an error
  // that the server sends at once (400, 404) is returned from here.
  struct Start {
    std::mutex mu;
    std::condition_variable cv;
    bool decided = false;
    absl::Status status;
  };
  auto start = std::make_shared<Start>();
  std::thread thread([this, state, start, request = std::move(request)] {
    state->thread_id.store(std::this_thread::get_id());
    StreamWriter writer(state.get());
    struct Starting : apiserver::ResponseWriter {
      StreamWriter* inner;
      std::shared_ptr<Start> start;
      bool streamed = false;
      void Decide(absl::Status s) {
        std::lock_guard<std::mutex> lock(start->mu);
        if (start->decided) return;
        start->decided = true;
        start->status = std::move(s);
        start->cv.notify_all();
      }
      void Send(int status, const apiserver::Headers& headers, std::string body) override {
        inner->Send(status, headers, body);
        if (!streamed) Decide(inner->end());
      }
      bool BeginStream(int status, const apiserver::Headers& headers) override {
        streamed = true;
        Decide(absl::OkStatus());
        return inner->BeginStream(status, headers);
      }
      bool WriteChunk(absl::string_view data) override { return inner->WriteChunk(data); }
      void EndStream() override { inner->EndStream(); }
      bool ClientGone() override { return inner->ClientGone(); }
    } starting;
    starting.inner = &writer;
    starting.start = start;
    server_->Handle(request, starting);
    starting.Decide(writer.end().ok() ? absl::InternalError("watch: the server answered nothing") : writer.end());
    if (starting.streamed) {
      state->Deliver([&] { state->on_end(writer.end()); });
    }
    state->done.store(true);
  });
  {
    std::unique_lock<std::mutex> lock(start->mu);
    start->cv.wait(lock, [&] { return start->decided; });
  }
  if (!start->status.ok()) {
    thread.join();
    return start->status;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    watch_threads_.push_back(WatchThread{std::move(thread), state});
  }
  return std::unique_ptr<WatchStream>(new LocalWatchStream(state));
}

void LocalApiClient::ReapWatchThreads() {
  std::list<WatchThread> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = watch_threads_.begin(); it != watch_threads_.end();) {
      if (it->state->done.load()) {
        finished.splice(finished.end(), watch_threads_, it++);
      } else {
        ++it;
      }
    }
  }
  for (auto& t : finished) t.thread.join();
}

size_t LocalApiClient::watch_threads() {
  ReapWatchThreads();
  std::lock_guard<std::mutex> lock(mu_);
  return watch_threads_.size();
}

}  // namespace berth::client
