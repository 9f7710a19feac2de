#include "runtime-shim/image/registry/registry_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"

namespace berth::image::registry {
namespace {

constexpr int kMaxRetries = 3;

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~/").find(c) !=
                                                                  std::string_view::npos;
}

void SkipSpace(absl::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string ReadToken(absl::string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && IsTokenChar(s[i])) ++i;
  return std::string(s.substr(start, i - start));
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad2))));
    }
  }
  return out;
}

bool IsDigest(absl::string_view s) { return absl::StartsWith(s, "sha256:"); }

// A file the blob streams into, with its running hash and count.
struct BlobFile {
  int fd = -1;
  std::unique_ptr<Sha256> hash = std::make_unique<Sha256>();
  int64_t written = 0;
};

}  // namespace

const HostConfig& RegistryConfig::For(const std::string& host) const {
  static const HostConfig kDefault;
  auto it = hosts.find(host);
  return it == hosts.end() ? kDefault : it->second;
}

absl::StatusOr<std::vector<Challenge>> ParseWwwAuthenticate(absl::string_view value) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed WWW-Authenticate '", value, "': ", why));
  };
  while (true) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) ++i;
    if (i >= value.size()) break;
    std::string scheme = ReadToken(value, i);
    if (scheme.empty()) return bad(absl::StrCat("expected a scheme at offset ", i));
    out.push_back(Challenge{absl::AsciiStrToLower(scheme), {}});
    Challenge& c = out.back();
    while (true) {
      SkipSpace(value, i);
      while (i < value.size() && value[i] == ',') {
        ++i;
        SkipSpace(value, i);
      }
      if (i >= value.size()) break;
      size_t mark = i;
      std::string name = ReadToken(value, i);
      SkipSpace(value, i);
      if (name.empty() || i >= value.size() || value[i] != '=') {
        // Not a parameter: the next challenge starts here (or a token68 we skip).
        i = mark;
        break;
      }
      ++i;
      SkipSpace(value, i);
      std::string val;
      if (i < value.size() && value[i] == '"') {
        ++i;
        bool closed = false;
        while (i < value.size()) {
          char ch = value[i++];
          if (ch == '\\' && i < value.size()) {
            val.push_back(value[i++]);
          } else if (ch == '"') {
            closed = true;
            break;
          } else {
            val.push_back(ch);
          }
        }
        if (!closed) return bad("unterminated quoted value");
      } else {
        // Unquoted: up to the next comma or space (lenient: realms like http://h/t).
        size_t start = i;
        while (i < value.size() && value[i] != ',' && value[i] != ' ' && value[i] != '\t') ++i;
        val = std::string(value.substr(start, i - start));
      }
      c.params[absl::AsciiStrToLower(name)] = val;
    }
    if (i < value.size() && !IsTokenChar(value[i]) && value[i] != ',') {
      return bad(absl::StrCat("unexpected '", std::string(1, value[i]), "' at offset ", i));
    }
  }
  if (out.empty()) return bad("no challenge");
  return out;
}

std::string RepositoryHost(absl::string_view repository) {
  return std::string(repository.substr(0, repository.find('/')));
}

std::string RepositoryPath(absl::string_view repository) {
  size_t slash = repository.find('/');
  return slash == absl::string_view::npos ? std::string(repository) : std::string(repository.substr(slash + 1));
}

RegistryClient::RegistryClient(RegistryConfig config, std::shared_ptr<HttpTransport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {}

std::vector<Endpoint> RegistryClient::Endpoints(absl::string_view repository) const {
  return EndpointsFor(config_, repository);
}

std::vector<Endpoint> EndpointsFor(const RegistryConfig& config, absl::string_view repository) {
  std::string host = RepositoryHost(repository);
  const HostConfig& hc = config.For(host);
  std::vector<Endpoint> out;
  for (const std::string& mirror : hc.mirrors) {
    Endpoint ep;
    ep.mirror = true;
    absl::string_view m = absl::StripSuffix(mirror, "/");
    if (absl::ConsumePrefix(&m, "http://")) {
      ep.host = std::string(m);
      ep.base = absl::StrCat("http://", m);
    } else {
      // Spelled https:// it stays https; a bare host[:port] follows that host's insecure setting.
      bool https = absl::ConsumePrefix(&m, "https://");
      ep.host = std::string(m);
      ep.base = absl::StrCat(!https && config.For(ep.host).insecure ? "http://" : "https://", m);
    }
    ep.config = &config.For(ep.host);
    ep.ca_file = ep.config->ca_file;
    out.push_back(std::move(ep));
  }
  Endpoint ep;
  ep.host = host == "docker.io" ? "registry-1.docker.io" : host;
  ep.base = absl::StrCat(hc.insecure ? "http://" : "https://", ep.host);
  ep.ca_file = hc.ca_file;
  ep.config = &hc;
  out.push_back(std::move(ep));
  return out;
}

absl::StatusOr<HttpResponse> RegistryClient::Do(const HttpRequest& request, const BodySink* sink) {
  if (hook_) hook_(request);
  return transport_->Do(request, sink);
}

absl::StatusOr<std::string> RegistryClient::Authorize(const Endpoint& ep, const std::string& repo_path,
                                                      const std::string& challenge_header, const Credentials& creds) {
  std::string user = creds.username, pass = creds.password, refresh = creds.identity_token;
  if (creds.empty() && ep.config != nullptr) {
    user = ep.config->username;
    pass = ep.config->password;
    refresh = ep.config->identity_token;
  }
  if (!creds.registry_token.empty()) return absl::StrCat("Bearer ", creds.registry_token);
  if (challenge_header.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("registry ", ep.host, " answered 401 without a challenge"));
  }
  ASSIGN_OR_RETURN(std::vector<Challenge> challenges, ParseWwwAuthenticate(challenge_header));
  for (const Challenge& c : challenges) {
    if (c.scheme == "bearer") {
      auto realm = c.params.find("realm");
      if (realm == c.params.end() || realm->second.empty()) {
        return absl::UnauthenticatedError(absl::StrCat("registry ", ep.host, ": bearer challenge without a realm"));
      }
      HttpRequest token_request;
      token_request.url = realm->second;
      char sep = realm->second.find('?') == std::string::npos ? '?' : '&';
      auto service = c.params.find("service");
      if (service != c.params.end()) {
        absl::StrAppend(&token_request.url, std::string(1, sep), "service=", UrlEncode(service->second));
        sep = '&';
      }
      auto scope = c.params.find("scope");
      std::string scope_value =
          scope != c.params.end() ? scope->second : absl::StrCat("repository:", repo_path, ":pull");
      absl::StrAppend(&token_request.url, std::string(1, sep), "scope=", UrlEncode(scope_value));
      if (!refresh.empty()) {
        // OAuth2 refresh-token grant (the distribution token spec's POST form).
        token_request.method = "POST";
        token_request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
        token_request.body = absl::StrCat("grant_type=refresh_token&refresh_token=", UrlEncode(refresh),
                                          "&client_id=berth&scope=", UrlEncode(scope_value));
        if (service != c.params.end()) absl::StrAppend(&token_request.body, "&service=", UrlEncode(service->second));
        token_request.url = realm->second;
      } else if (!user.empty() || !pass.empty()) {
        token_request.headers.push_back(
            absl::StrCat("Authorization: Basic ", absl::Base64Escape(absl::StrCat(user, ":", pass))));
      }
      token_request.ca_file = ep.ca_file;
      token_request.timeout_s = 60;
      absl::StatusOr<HttpResponse> resp = Do(token_request, nullptr);
      if (!resp.ok()) return Annotate(resp.status(), absl::StrCat("token for ", ep.host, "/", repo_path));
      if (resp->status == 401 || resp->status == 403) {
        return absl::UnauthenticatedError(absl::StrCat("token server ", realm->second, " refused the credentials for ",
                                                       ep.host, "/", repo_path, " (HTTP ", resp->status, ")"));
      }
      if (resp->status != 200) {
        return absl::UnavailableError(
            absl::StrCat("token server ", realm->second, " answered HTTP ", resp->status, " for ", ep.host));
      }
      nlohmann::json doc = nlohmann::json::parse(resp->body, nullptr, false);
      std::string token;
      if (doc.is_object()) {
        for (const char* field : {"token", "access_token"}) {
          if (doc.contains(field) && doc[field].is_string() && !doc[field].get<std::string>().empty()) {
            token = doc[field].get<std::string>();
            break;
          }
        }
      }
      if (token.empty()) {
        return absl::UnauthenticatedError(
            absl::StrCat("token server ", realm->second, " for ", ep.host, " returned no token"));
      }
      return absl::StrCat("Bearer ", token);
    }
    if (c.scheme == "basic") {
      if (user.empty() && pass.empty()) {
        return absl::UnauthenticatedError(
            absl::StrCat("registry ", ep.host, " requires basic auth and no credentials were given"));
      }
      return absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(user, ":", pass)));
    }
  }
  return absl::UnauthenticatedError(
      absl::StrCat("registry ", ep.host, ": no supported auth scheme in '", challenge_header, "'"));
}

absl::StatusOr<HttpResponse> RegistryClient::Send(const Endpoint& ep, const std::string& repo_path,
                                                  HttpRequest request, const BodySink* sink,
                                                  const Credentials& creds) {
  request.ca_file = ep.ca_file;
  // Per host, repository and credentials: one pull's token never serves another's.
  std::string key = absl::StrCat(ep.host, " ", repo_path, " ",
                                 Sha256Digest(absl::StrCat(creds.username, "\n", creds.password, "\n",
                                                           creds.registry_token, "\n", creds.identity_token)));
  std::string auth;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = auth_headers_.find(key);
    if (it != auth_headers_.end()) auth = it->second;
  }
  HttpRequest sent = request;
  if (!auth.empty()) sent.headers.push_back(absl::StrCat("Authorization: ", auth));
  ASSIGN_OR_RETURN(HttpResponse resp, Do(sent, sink));
  if (resp.status != 401) return resp;
  ASSIGN_OR_RETURN(std::string fresh, Authorize(ep, repo_path, resp.Header("www-authenticate"), creds));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auth_headers_[key] = fresh;
  }
  sent = request;
  sent.headers.push_back(absl::StrCat("Authorization: ", fresh));
  ASSIGN_OR_RETURN(resp, Do(sent, sink));
  if (resp.status == 401) {
    return absl::UnauthenticatedError(
        absl::StrCat("registry ", ep.host, " refused the credentials for ", repo_path, " (HTTP 401)"));
  }
  return resp;
}

absl::StatusOr<FetchedManifest> RegistryClient::GetManifest(const Reference& ref, const std::string& tag_or_digest,
                                                            const Credentials& creds) {
  std::string repo_path = RepositoryPath(ref.repository);
  std::string shown = absl::StrCat(ref.repository, IsDigest(tag_or_digest) ? "@" : ":", tag_or_digest);
  absl::Status last;
  std::vector<Endpoint> endpoints = Endpoints(ref.repository);
  for (size_t e = 0; e < endpoints.size(); ++e) {
    const Endpoint& ep = endpoints[e];
    absl::StatusOr<FetchedManifest> got = [&]() -> absl::StatusOr<FetchedManifest> {
      HttpRequest request;
      request.url = absl::StrCat(ep.base, "/v2/", repo_path, "/manifests/", tag_or_digest);
      request.headers.push_back(absl::StrCat("Accept: ", ManifestAccept()));
      request.timeout_s = 120;
      absl::StatusOr<HttpResponse> resp;
      for (int attempt = 0; attempt <= kMaxRetries; ++attempt) {
        resp = Send(ep, repo_path, request, nullptr, creds);
        if (resp.ok() || !absl::IsUnavailable(resp.status())) break;
      }
      if (!resp.ok()) return Annotate(resp.status(), absl::StrCat("manifest ", shown, " from ", ep.host));
      if (resp->status == 404) {
        return absl::NotFoundError(absl::StrCat("manifest ", shown, " not found on ", ep.host));
      }
      if (resp->status != 200) {
        return absl::UnavailableError(
            absl::StrCat("manifest ", shown, " from ", ep.host, ": HTTP ", resp->status, " ", resp->body.substr(0, 200)));
      }
      FetchedManifest m;
      m.body = std::move(resp->body);
      m.media_type = resp->Header("content-type");
      m.digest = Sha256Digest(m.body);
      if (IsDigest(tag_or_digest) && m.digest != tag_or_digest) {
        return absl::DataLossError(
            absl::StrCat("manifest ", shown, " from ", ep.host, ": digest mismatch, the body hashes to ", m.digest));
      }
      return m;
    }();
    if (got.ok()) return got;
    last = got.status();
    if (e + 1 < endpoints.size()) {
      BERTH_LOG(Warning) << "registry endpoint failed, trying the next" << Kv("endpoint", ep.base)
                         << Kv("next", endpoints[e + 1].base) << Kv("error", last.ToString());
    }
  }
  if (absl::IsNotFound(last)) {
    return absl::NotFoundError(absl::StrCat("image ", shown, " not found: ", last.message()));
  }
  return last;
}

absl::Status RegistryClient::FetchBlob(const Reference& ref, const Descriptor& blob, const std::string& dest_path,
                                       const Credentials& creds, const FetchProgress* progress) {
  RETURN_IF_ERROR(DigestHex(blob.digest, "blob digest").status());
  std::string repo_path = RepositoryPath(ref.repository);
  absl::Status last;
  std::vector<Endpoint> endpoints = Endpoints(ref.repository);
  for (size_t e = 0; e < endpoints.size(); ++e) {
    last = FetchBlobFrom(endpoints[e], repo_path, blob, dest_path, creds, progress);
    if (last.ok()) return last;
    ::unlink(dest_path.c_str());
    if (absl::IsDataLoss(last) || absl::IsDeadlineExceeded(last)) return last;  // the content is wrong; another endpoint will not fix the digest
    if (e + 1 < endpoints.size()) {
      BERTH_LOG(Warning) << "registry endpoint failed, trying the next" << Kv("endpoint", endpoints[e].base)
                         << Kv("next", endpoints[e + 1].base) << Kv("error", last.ToString());
    }
  }
  return last;
}

absl::Status RegistryClient::FetchBlobFrom(const Endpoint& ep, const std::string& repo_path, const Descriptor& blob,
                                           const std::string& dest_path, const Credentials& creds,
                                           const FetchProgress* progress) {
  std::string what = absl::StrCat("blob ", blob.digest, " of ", ep.host, "/", repo_path);
  BlobFile file;
  file.fd = ::open(dest_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (file.fd < 0) return ErrnoError(absl::StrCat("create ", dest_path, " for ", what));
  auto restart = [&]() -> absl::Status {
    if (::ftruncate(file.fd, 0) != 0 || ::lseek(file.fd, 0, SEEK_SET) != 0) {
      return ErrnoError(absl::StrCat("truncate ", dest_path));
    }
    file.hash = std::make_unique<Sha256>();
    file.written = 0;
    return absl::OkStatus();
  };
  auto write = [&](absl::string_view chunk) -> absl::Status {
    if (file.written + static_cast<int64_t>(chunk.size()) > blob.size) {
      return absl::DataLossError(absl::StrCat(what, ": larger than the ", blob.size, " bytes its descriptor gives"));
    }
    file.hash->Update(chunk);
    size_t off = 0;
    while (off < chunk.size()) {
      ssize_t n = ::write(file.fd, chunk.data() + off, chunk.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(absl::StrCat("write ", dest_path));
      }
      off += static_cast<size_t>(n);
    }
    file.written += static_cast<int64_t>(chunk.size());
    if (progress != nullptr && progress->on_bytes) progress->on_bytes(static_cast<int64_t>(chunk.size()));
    return absl::OkStatus();
  };

  absl::Status status;
  bool resumed = false;
  for (int attempt = 0; attempt <= kMaxRetries; ++attempt) {
    HttpRequest request;
    request.url = absl::StrCat(ep.base, "/v2/", repo_path, "/blobs/", blob.digest);
    if (progress != nullptr) request.keep_going = progress->keep_going;
    bool ranged = false;
    if (file.written > 0 && file.written < blob.size && !resumed) {
      request.headers.push_back(absl::StrCat("Range: bytes=", file.written, "-"));
      ranged = resumed = true;
    } else if (file.written > 0) {
      status = restart();
      if (!status.ok()) break;
    }
    bool first = true;
    BodySink sink = [&](long http_status, absl::string_view chunk) -> absl::Status {
      if (first) {
        first = false;
        // A 200 to a Range request sends the whole blob: start over.
        if (http_status != 206 && file.written > 0) RETURN_IF_ERROR(restart());
      }
      return write(chunk);
    };
    absl::StatusOr<HttpResponse> resp = Send(ep, repo_path, request, &sink, creds);
    if (!resp.ok()) {
      status = Annotate(resp.status(), what);
      if (absl::IsUnavailable(resp.status()) && file.written == blob.size) {
        status = absl::OkStatus();  // every byte arrived before the drop: the digest decides
        break;
      }
      if (absl::IsUnavailable(resp.status())) {
        BERTH_LOG(Warning) << "blob download dropped, retrying" << Kv("blob", blob.digest) << Kv("host", ep.host)
                           << Kv("received", file.written) << Kv("error", resp.status().ToString());
        continue;
      }
      break;
    }
    if (resp->status == 404) {
      status = absl::NotFoundError(absl::StrCat(what, ": not found"));
      break;
    }
    if (resp->status == 416 && ranged) {
      // The server would not resume: start over.
      status = restart();
      if (!status.ok()) break;
      continue;
    }
    if (resp->status != 200 && resp->status != 206) {
      status = absl::UnavailableError(absl::StrCat(what, ": HTTP ", resp->status));
      break;
    }
    status = absl::OkStatus();
    break;
  }
  ::close(file.fd);
  if (!status.ok()) return status;
  if (file.written != blob.size) {
    return absl::DataLossError(
        absl::StrCat(what, ": size mismatch, got ", file.written, " bytes, the descriptor gives ", blob.size));
  }
  std::string got = file.hash->Finish();
  if (got != blob.digest) {
    return absl::DataLossError(absl::StrCat(what, ": digest mismatch, the content hashes to ", got));
  }
  return absl::OkStatus();
}

}  // namespace berth::image::registry
