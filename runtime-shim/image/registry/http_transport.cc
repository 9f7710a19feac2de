#include "runtime-shim/image/registry/http_transport.h"

#include <curl/curl.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"

namespace berth::image::registry {
namespace {

constexpr size_t kMaxKeptBody = 8 << 20;

struct Transfer {
  CURL* curl = nullptr;
  const BodySink* sink = nullptr;
  HttpResponse* response = nullptr;
  absl::Status sink_status;
  const std::function<absl::Status()>* keep_going = nullptr;
};

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->keep_going || !*t->keep_going) return 0;
  absl::Status status = (*t->keep_going)();
  if (status.ok()) return 0;
  t->sink_status = status;
  return 1;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    t->response->headers.clear();  // a new response (redirect, 100-continue)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
    t->response->headers[name] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (t->sink != nullptr && code >= 200 && code < 300) {
    t->sink_status = (*t->sink)(code, absl::string_view(data, n));
    return t->sink_status.ok() ? n : 0;
  }
  if (t->response->body.size() + n > kMaxKeptBody) {
    t->sink_status = absl::ResourceExhaustedError(absl::StrCat("response body over ", kMaxKeptBody, " bytes"));
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

class CurlTransport : public HttpTransport {
 public:
  CurlTransport() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request, const BodySink* sink) override {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
    HttpResponse response;
    Transfer t{curl, sink, &response, absl::OkStatus(), &request.keep_going};
    if (request.keep_going) {
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    curl_slist* headers = nullptr;
    for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
    // A transfer under 1 byte/s for 60 s counts as dropped.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    if (request.timeout_s > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT, request.timeout_s);
    if (!request.verify_tls) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    std::string ca_bundle;
    curl_blob ca_blob{};
    if (!request.ca_file.empty()) {
      // The system store plus the host's CA file (CURLOPT_CAINFO alone would replace the system store).
      absl::StatusOr<std::string> extra = ReadFile(request.ca_file);
      if (!extra.ok()) {
        curl_easy_cleanup(curl);
        return Annotate(extra.status(), absl::StrCat("CA file for ", request.url));
      }
      const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
      if (info->cainfo != nullptr) {
        absl::StatusOr<std::string> system = ReadFile(info->cainfo);
        if (system.ok()) ca_bundle = *system + "\n";
      }
      ca_bundle += *extra;
      ca_blob.data = ca_bundle.data();
      ca_blob.len = ca_bundle.size();
      ca_blob.flags = CURL_BLOB_NOCOPY;
      curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca_blob);
    }
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    if (request.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (!t.sink_status.ok()) return t.sink_status;
    if (rc != CURLE_OK) {
      std::string what = absl::StrCat(request.method, " ", request.url, ": ", curl_easy_strerror(rc));
      if (rc == CURLE_SSL_CACERT || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR) {
        return absl::FailedPreconditionError(what);
      }
      return absl::UnavailableError(what);
    }
    return response;
  }
};

}  // namespace

std::string HttpResponse::Header(absl::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::shared_ptr<HttpTransport> NewCurlTransport() { return std::make_shared<CurlTransport>(); }

}  // namespace berth::image::registry
