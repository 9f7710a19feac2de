#include "controlplane/client/http_api_client.h"

#include <curl/curl.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "controlplane/client/watch_event_line.h"

namespace berth::client {
namespace {

constexpr size_t kMaxBody = 64 << 20;

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

struct Collected {
  std::string body;
  bool too_big = false;
};

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* c = static_cast<Collected*>(user);
  size_t n = size * count;
  if (c->body.size() + n > kMaxBody) {
    c->too_big = true;
    return 0;
  }
  c->body.append(data, n);
  return n;
}

curl_slist* RequestHeaders(const std::string& token, const std::string& content_type, bool has_body) {
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (has_body) headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  return headers;
}

// What one watch's thread and its owner share; the thread holds its own
// reference, so a watch stopped from its own handler can let the thread run out.
struct WatchState {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  curl_slist* headers = nullptr;
  WatchHandler on_event;
  WatchEndHandler on_end;
  std::atomic<bool> stop{false};
  std::string pending;      // a partial line
  std::string error_body;   // the body of a non-200 answer
  absl::Status end_status;  // an ERROR event's, or a malformed line's
  // Start handshake: the answer's headers arrived (or the transfer ended).
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  long code = 0;
  bool ended = false;
  absl::Status early_error;

  ~WatchState() {
    if (multi && easy) curl_multi_remove_handle(multi, easy);
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
  }

  void MarkStarted(long status_code) {
    std::lock_guard<std::mutex> lock(mu);
    if (started) return;
    started = true;
    code = status_code;
    cv.notify_all();
  }

  // One JSON line: {"type": ..., "object": ...}.
  bool HandleLine(absl::string_view line) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) return true;
    auto event = DecodeWatchEventLine(line);
    if (!event.ok()) {
      end_status = event.status();
      return false;
    }
    if (stop) return false;
    on_event(std::move(*event));
    return !stop;
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* s = static_cast<WatchState*>(user);
    size_t n = size * count;
    absl::string_view line(data, n);
    if (absl::StripAsciiWhitespace(line).empty()) {  // end of the headers
      long code = 0;
      curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
      if (code == 200) s->MarkStarted(code);
    }
    return n;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* s = static_cast<WatchState*>(user);
    size_t n = size * count;
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
      if (s->error_body.size() < 65536) s->error_body.append(data, n);
      return n;
    }
    s->pending.append(data, n);
    size_t start = 0;
    for (size_t nl; (nl = s->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!s->HandleLine(absl::string_view(s->pending).substr(start, nl - start))) return 0;
    }
    s->pending.erase(0, start);
    return n;
  }

  // The thread: the transfer until it ends or Stop.
  static void Run(std::shared_ptr<WatchState> s) {
    CURLcode result = CURLE_OK;
    int running = 1;
    while (!s->stop) {
      CURLMcode mc = curl_multi_perform(s->multi, &running);
      if (mc != CURLM_OK) {
        s->end_status = absl::InternalError(absl::StrCat("watch: ", curl_multi_strerror(mc)));
        break;
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(s->multi, &queued)) {
        if (msg->msg == CURLMSG_DONE) result = msg->data.result;
      }
      if (!running) break;
      curl_multi_poll(s->multi, nullptr, 0, 1000, nullptr);
    }
    if (s->stop) {
      s->MarkStarted(0);
      return;
    }
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    absl::Status reason = s->end_status;
    if (reason.ok() && code != 0 && code != 200) {
      reason = StatusFromResponse(static_cast<int>(code), s->error_body);
    }
    if (reason.ok() && result != CURLE_OK) {
      char* url = nullptr;
      curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &url);
      reason = absl::UnavailableError(absl::StrCat("watch ", url ? url : "", ": ", curl_easy_strerror(result)));
    }
    bool was_started;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      was_started = s->started;
      if (!was_started) {
        s->early_error = reason.ok() ? absl::UnavailableError("watch ended before it started") : reason;
        s->started = true;
      }
      s->ended = true;
      s->cv.notify_all();
    }
    if (was_started && !s->stop) s->on_end(reason);
  }
};

class CurlWatchStream : public WatchStream {
 public:
  CurlWatchStream(std::shared_ptr<WatchState> state, std::thread thread)
      : state_(std::move(state)), thread_(std::move(thread)) {}
  ~CurlWatchStream() override { Stop(); }
  void Stop() override {
    state_->stop = true;
    curl_multi_wakeup(state_->multi);
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // stopped from its own handler: the thread holds the state and runs out
    } else {
      thread_.join();
    }
  }

 private:
  std::shared_ptr<WatchState> state_;
  std::thread thread_;
};

}  // namespace

std::string ListQuery(const ListOptions& options, bool watch) {
  std::vector<std::pair<std::string, std::string>> params;
  if (watch) params.emplace_back("watch", "1");
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  if (!watch && options.limit > 0) params.emplace_back("limit", absl::StrCat(options.limit));
  if (!watch && !options.continue_token.empty()) params.emplace_back("continue", options.continue_token);
  if (!options.resource_version.empty()) params.emplace_back("resourceVersion", options.resource_version);
  if (watch && options.allow_watch_bookmarks) params.emplace_back("allowWatchBookmarks", "true");
  if (watch && options.timeout_seconds > 0) params.emplace_back("timeoutSeconds", absl::StrCat(options.timeout_seconds));
  std::string query;
  for (const auto& [k, v] : params) absl::StrAppend(&query, query.empty() ? "?" : "&", k, "=", PercentEncode(v));
  return query;
}

absl::StatusOr<std::unique_ptr<HttpApiClient>> HttpApiClient::Create(KubeconfigCredentials credentials,
                                                                     HttpApiClientOptions options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (credentials.server.empty()) return absl::InvalidArgumentError("server: not set");
  return std::unique_ptr<HttpApiClient>(new HttpApiClient(std::move(credentials), std::move(options)));
}

absl::StatusOr<std::unique_ptr<HttpApiClient>> HttpApiClient::FromKubeconfig(const std::string& path,
                                                                             HttpApiClientOptions options) {
  ASSIGN_OR_RETURN(KubeconfigCredentials creds, LoadKubeconfig(path));
  return Create(std::move(creds), std::move(options));
}

HttpApiClient::~HttpApiClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

int HttpApiClient::connections_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

void* HttpApiClient::NewHandle() const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return nullptr;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!credentials_.ca_pem.empty()) {
    curl_blob ca{const_cast<char*>(credentials_.ca_pem.data()), credentials_.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (credentials_.insecure_skip_tls_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!credentials_.client_cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(credentials_.client_cert_pem.data()), credentials_.client_cert_pem.size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(credentials_.client_key_pem.data()), credentials_.client_key_pem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  return curl;
}

void* HttpApiClient::TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return NewHandle();
}

void HttpApiClient::ReturnHandle(void* handle) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.max_idle_connections) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<nlohmann::json> HttpApiClient::Request(const std::string& method, const std::string& path_and_query,
                                                      const std::string& body, const std::string& content_type) {
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  std::string url = credentials_.server + path_and_query;
  Collected collected;
  curl_slist* headers = RequestHeaders(credentials_.token, content_type, !body.empty() || method != "GET");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options_.request_timeout_s);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &collected);
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode result = curl_easy_perform(curl);
  long code = 0, connects = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
  curl_slist_free_all(headers);
  {
    std::lock_guard<std::mutex> lock(mu_);
    opened_ += static_cast<int>(connects);
  }
  if (result != CURLE_OK) {
    curl_easy_cleanup(curl);  // its connection is in an unknown state
    if (collected.too_big) return absl::ResourceExhaustedError(absl::StrCat(method, " ", url, ": body over 64 MiB"));
    return absl::UnavailableError(absl::StrCat(method, " ", url, ": ", curl_easy_strerror(result)));
  }
  ReturnHandle(curl);
  if (code < 200 || code >= 300) return StatusFromResponse(static_cast<int>(code), collected.body);
  if (collected.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(collected.body, nullptr, false);
  if (j.is_discarded()) {
    return absl::DataLossError(absl::StrCat(method, " ", url, ": the answer is not JSON: ",
                                            collected.body.substr(0, 200)));
  }
  return j;
}

absl::StatusOr<nlohmann::json> HttpApiClient::Get(const ResourceRef& ref, const std::string& ns,
                                                  const std::string& name) {
  return Request("GET", ref.ObjectPath(ns, name));
}

absl::StatusOr<nlohmann::json> HttpApiClient::List(const ResourceRef& ref, const std::string& ns,
                                                   const ListOptions& options) {
  return Request("GET", ref.CollectionPath(ns) + ListQuery(options, false));
}

absl::StatusOr<nlohmann::json> HttpApiClient::Create(const ResourceRef& ref, const std::string& ns,
                                                     const nlohmann::json& object) {
  return Request("POST", ref.CollectionPath(ns), object.dump());
}

absl::StatusOr<nlohmann::json> HttpApiClient::Update(const ResourceRef& ref, const std::string& ns,
                                                     const nlohmann::json& object, const std::string& subresource) {
  std::string name = object.value("/metadata/name"_json_pointer, "");
  if (name.empty()) return absl::InvalidArgumentError("update: metadata.name is not set");
  return Request("PUT", ref.ObjectPath(ns, name, subresource), object.dump());
}

absl::StatusOr<nlohmann::json> HttpApiClient::Patch(const ResourceRef& ref, const std::string& ns,
                                                    const std::string& name, PatchType type,
                                                    const nlohmann::json& patch, const std::string& subresource) {
  return Request("PATCH", ref.ObjectPath(ns, name, subresource), patch.dump(), PatchContentType(type));
}

absl::StatusOr<nlohmann::json> HttpApiClient::Delete(const ResourceRef& ref, const std::string& ns,
                                                     const std::string& name, const DeleteOptions& options) {
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty()) body["preconditions"] = {{"uid", options.precondition_uid}};
  return Request("DELETE", ref.ObjectPath(ns, name), body.dump());
}

absl::StatusOr<nlohmann::json> HttpApiClient::CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                                                const std::string& name,
                                                                const std::string& subresource,
                                                                const nlohmann::json& body) {
  return Request("POST", ref.ObjectPath(ns, name, subresource), body.dump());
}

absl::StatusOr<std::unique_ptr<WatchStream>> HttpApiClient::Watch(const ResourceRef& ref, const std::string& ns,
                                                                  const ListOptions& options, WatchHandler on_event,
                                                                  WatchEndHandler on_end) {
  auto state = std::make_shared<WatchState>();
  state->easy = static_cast<CURL*>(NewHandle());
  state->multi = curl_multi_init();
  if (state->easy == nullptr || state->multi == nullptr) return absl::InternalError("curl init failed");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++opened_;  // a watch always has a connection of its own
  }
  state->on_event = std::move(on_event);
  state->on_end = std::move(on_end);
  state->headers = RequestHeaders(credentials_.token, "", false);
  std::string url = credentials_.server + ref.CollectionPath(ns) + ListQuery(options, true);
  CURL* easy = state->easy;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, state->headers);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, WatchState::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, state.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, WatchState::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, state.get());
  curl_multi_add_handle(state->multi, easy);
  std::thread thread([state] { WatchState::Run(state); });
  auto stream = std::make_unique<CurlWatchStream>(state, std::move(thread));
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->started; });
  if (!state->early_error.ok()) {
    absl::Status error = state->early_error;
    lock.unlock();
    stream.reset();
    return error;
  }
  return stream;
}

}  // namespace berth::client
