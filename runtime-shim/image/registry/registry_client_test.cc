#include "runtime-shim/image/registry/registry_client.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"

namespace berth::image::registry {
namespace {

// Answers requests with a handler and records them.
class FakeTransport : public HttpTransport {
 public:
  using Handler = std::function<absl::StatusOr<HttpResponse>(const HttpRequest&, const BodySink*)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request, const BodySink* sink) override {
    requests.push_back(request);
    return handler_(request, sink);
  }
  std::vector<HttpRequest> requests;

 private:
  Handler handler_;
};

std::string HeaderOf(const HttpRequest& r, absl::string_view name) {
  for (const std::string& h : r.headers) {
    if (absl::StartsWithIgnoreCase(h, absl::StrCat(name, ": "))) return h.substr(name.size() + 2);
  }
  return "";
}

HttpResponse Reply(long status, std::string body = "", std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// Sends `body` through the sink as a 2xx body would arrive.
absl::StatusOr<HttpResponse> Stream(long status, absl::string_view body, const BodySink* sink) {
  if (sink != nullptr) RETURN_IF_ERROR((*sink)(status, body));
  return Reply(status, sink == nullptr ? std::string(body) : "");
}

Reference Ref(const std::string& s) { return *ParseReference(s); }

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/berth-registry-test-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)RemoveAll(path); }
  std::string path;
};

TEST(WwwAuthenticateTest, ParsesBearer) {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].scheme, "bearer");
  EXPECT_EQ((*c)[0].params.at("realm"), "https://auth.docker.io/token");
  EXPECT_EQ((*c)[0].params.at("service"), "registry.docker.io");
  EXPECT_EQ((*c)[0].params.at("scope"), "repository:library/busybox:pull");
}

TEST(WwwAuthenticateTest, ParsesSeveralChallengesTokensAndEscapes) {
  auto c = ParseWwwAuthenticate(R"(Basic realm="Registry \"x\"", charset=UTF-8 , Bearer realm=http://h/t, error="insufficient_scope")");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].scheme, "basic");
  EXPECT_EQ((*c)[0].params.at("realm"), "Registry \"x\"");
  EXPECT_EQ((*c)[0].params.at("charset"), "UTF-8");
  EXPECT_EQ((*c)[1].scheme, "bearer");
  EXPECT_EQ((*c)[1].params.at("realm"), "http://h/t");
  EXPECT_EQ((*c)[1].params.at("error"), "insufficient_scope");
}

TEST(WwwAuthenticateTest, RejectsMalformed) {
  EXPECT_FALSE(ParseWwwAuthenticate("").ok());
  EXPECT_FALSE(ParseWwwAuthenticate(R"(Bearer realm="unterminated)").ok());
  EXPECT_FALSE(ParseWwwAuthenticate("\"quoted\"").ok());
}

TEST(RegistryClientTest, Endpoints) {
  RegistryConfig config;
  config.hosts["docker.io"].mirrors = {"mirror.local:5000", "http://plain.local"};
  config.hosts["mirror.local:5000"].ca_file = "/etc/ca.pem";
  config.hosts["127.0.0.1:5000"].insecure = true;
  RegistryClient client(config, std::make_shared<FakeTransport>(nullptr));
  std::vector<Endpoint> eps = client.Endpoints("docker.io/library/busybox");
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].base, "https://mirror.local:5000");
  EXPECT_EQ(eps[0].ca_file, "/etc/ca.pem");
  EXPECT_TRUE(eps[0].mirror);
  EXPECT_EQ(eps[1].base, "http://plain.local");
  EXPECT_EQ(eps[2].base, "https://registry-1.docker.io");
  EXPECT_FALSE(eps[2].mirror);
  eps = client.Endpoints("127.0.0.1:5000/app");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].base, "http://127.0.0.1:5000");
  EXPECT_EQ(RepositoryPath("docker.io/library/busybox"), "library/busybox");
  EXPECT_EQ(RepositoryHost("docker.io/library/busybox"), "docker.io");
}

TEST(RegistryClientTest, BearerTokenFlow) {
  const std::string body = R"({"schemaVersion":2})";
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink*) -> absl::StatusOr<HttpResponse> {
    if (absl::StartsWith(r.url, "https://auth.example/token")) {
      EXPECT_EQ(r.url, "https://auth.example/token?service=reg.example&scope=repository%3Ateam%2Fapp%3Apull");
      EXPECT_EQ(HeaderOf(r, "Authorization"), absl::StrCat("Basic ", absl::Base64Escape("alice:secret")));
      return Reply(200, R"({"token":"T0K"})");
    }
    if (HeaderOf(r, "Authorization") == "Bearer T0K") {
      EXPECT_NE(HeaderOf(r, "Accept").find(kOciIndex), std::string::npos);
      return Reply(200, body, {{"content-type", kOciManifest}});
    }
    return Reply(401, "", {{"www-authenticate",
                            R"(Bearer realm="https://auth.example/token",service="reg.example",scope="repository:team/app:pull")"}});
  });
  RegistryClient client(RegistryConfig{}, transport);
  Credentials creds{"alice", "secret", ""};
  auto m = client.GetManifest(Ref("reg.example/team/app:1.0"), "1.0", creds);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, body);
  EXPECT_EQ(m->digest, Sha256Digest(body));
  EXPECT_EQ(m->media_type, kOciManifest);
  ASSERT_EQ(transport->requests.size(), 3u);
  EXPECT_EQ(transport->requests[0].url, "https://reg.example/v2/team/app/manifests/1.0");
  // The token is cached: the next request sends it straight away.
  ASSERT_TRUE(client.GetManifest(Ref("reg.example/team/app:1.0"), "1.0", creds).ok());
  EXPECT_EQ(transport->requests.size(), 4u);
}

TEST(RegistryClientTest, AnonymousTokenAndRefusedCredentials) {
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink*) -> absl::StatusOr<HttpResponse> {
    if (absl::StartsWith(r.url, "https://auth.example/token")) {
      EXPECT_EQ(HeaderOf(r, "Authorization"), "");
      // No scope in the challenge: the pull scope of the repository.
      EXPECT_NE(r.url.find("scope=repository%3Aapp%3Apull"), std::string::npos) << r.url;
      return Reply(200, R"({"access_token":"anon"})");
    }
    return Reply(401, "", {{"www-authenticate", R"(Bearer realm="https://auth.example/token")"}});
  });
  RegistryClient client(RegistryConfig{}, transport);
  auto m = client.GetManifest(Ref("reg.example/app:1"), "1", Credentials{});
  ASSERT_TRUE(absl::IsUnauthenticated(m.status())) << m.status();
  EXPECT_NE(m.status().message().find("reg.example"), std::string::npos) << m.status();
}

TEST(RegistryClientTest, BasicAuthFromHostConfig) {
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink*) -> absl::StatusOr<HttpResponse> {
    if (HeaderOf(r, "Authorization") == absl::StrCat("Basic ", absl::Base64Escape("bob:pw"))) return Reply(200, "{}");
    return Reply(401, "", {{"www-authenticate", R"(Basic realm="reg")"}});
  });
  RegistryConfig config;
  config.hosts["reg.example"].username = "bob";
  config.hosts["reg.example"].password = "pw";
  RegistryClient client(config, transport);
  auto m = client.GetManifest(Ref("reg.example/app:1"), "1", Credentials{});
  ASSERT_TRUE(m.ok()) << m.status();
  // Without credentials basic auth is refused with a clear error.
  RegistryClient anonymous(RegistryConfig{}, transport);
  auto refused = anonymous.GetManifest(Ref("reg.example/app:1"), "1", Credentials{});
  EXPECT_TRUE(absl::IsUnauthenticated(refused.status())) << refused.status();
}

TEST(RegistryClientTest, ManifestNotFoundNamesReferenceAndDigestIsVerified) {
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink*) -> absl::StatusOr<HttpResponse> {
    if (absl::EndsWith(r.url, "/nope")) return Reply(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})");
    return Reply(200, "{}");
  });
  RegistryClient client(RegistryConfig{}, transport);
  auto m = client.GetManifest(Ref("reg.example/app:nope"), "nope", {});
  ASSERT_TRUE(absl::IsNotFound(m.status())) << m.status();
  EXPECT_NE(m.status().message().find("reg.example/app:nope"), std::string::npos) << m.status();
  std::string wrong = "sha256:" + std::string(64, 'a');
  auto bad = client.GetManifest(Ref("reg.example/app@" + wrong), wrong, {});
  EXPECT_TRUE(absl::IsDataLoss(bad.status())) << bad.status();
  auto good = client.GetManifest(Ref("reg.example/app@" + Sha256Digest("{}")), Sha256Digest("{}"), {});
  EXPECT_TRUE(good.ok()) << good.status();
}

TEST(RegistryClientTest, MirrorFallsBackToHost) {
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink*) -> absl::StatusOr<HttpResponse> {
    if (absl::StartsWith(r.url, "https://mirror.local")) return absl::UnavailableError("connection refused");
    return Reply(200, "{}");
  });
  RegistryConfig config;
  config.hosts["reg.example"].mirrors = {"mirror.local"};
  RegistryClient client(config, transport);
  auto m = client.GetManifest(Ref("reg.example/app:1"), "1", {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(transport->requests.back().url, "https://reg.example/v2/app/manifests/1");
  EXPECT_EQ(transport->requests.size(), 5u);  // the mirror: first try and 3 retries
}

TEST(RegistryClientTest, IdentityTokenFromTheConfigUsesTheRefreshTokenGrant) {
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink*) -> absl::StatusOr<HttpResponse> {
    if (absl::StartsWith(r.url, "https://auth.example/token")) {
      EXPECT_EQ(r.method, "POST");
      EXPECT_EQ(r.url, "https://auth.example/token");
      EXPECT_EQ(r.body, "grant_type=refresh_token&refresh_token=R%2FT&client_id=berth&scope=repository%3Aapp%3Apull"
                        "&service=reg.example");
      return Reply(200, R"({"access_token":"ACC"})");
    }
    if (HeaderOf(r, "Authorization") == "Bearer ACC") return Reply(200, "{}");
    return Reply(401, "", {{"www-authenticate", R"(Bearer realm="https://auth.example/token",service="reg.example")"}});
  });
  RegistryConfig config;
  config.hosts["reg.example"].identity_token = "R/T";
  RegistryClient client(config, transport);
  auto m = client.GetManifest(Ref("reg.example/app:1"), "1", {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(transport->requests.size(), 3u);
}

TEST(RegistryClientTest, MirrorSpelledHttpsStaysHttpsEvenWhenTheHostIsInsecure) {
  RegistryConfig config;
  config.hosts["reg.example"].mirrors = {"https://m.example", "m.example"};
  config.hosts["m.example"].insecure = true;
  std::vector<Endpoint> eps = EndpointsFor(config, "reg.example/app");
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].base, "https://m.example");
  EXPECT_EQ(eps[1].base, "http://m.example");
  EXPECT_EQ(eps[2].base, "https://reg.example");
}

const std::string kBlob = std::string(1000, 'x') + std::string(1000, 'y');

Descriptor BlobDesc() {
  Descriptor d;
  d.digest = Sha256Digest(kBlob);
  d.size = static_cast<int64_t>(kBlob.size());
  return d;
}

TEST(RegistryClientTest, ResumesDroppedDownloadWithRange) {
  int calls = 0;
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink* sink) -> absl::StatusOr<HttpResponse> {
    ++calls;
    if (calls == 1) {
      EXPECT_EQ(HeaderOf(r, "Range"), "");
      RETURN_IF_ERROR((*sink)(200, absl::string_view(kBlob).substr(0, 700)));
      return absl::UnavailableError("connection reset");
    }
    EXPECT_EQ(HeaderOf(r, "Range"), "bytes=700-");
    return Stream(206, absl::string_view(kBlob).substr(700), sink);
  });
  RegistryClient client(RegistryConfig{}, transport);
  TempDir dir;
  std::string dest = dir.path + "/blob";
  ASSERT_TRUE(client.FetchBlob(Ref("reg.example/app:1"), BlobDesc(), dest, {}).ok());
  EXPECT_EQ(*ReadFile(dest), kBlob);
  EXPECT_EQ(calls, 2);
}

TEST(RegistryClientTest, RangeIgnoredRestartsAndSecondDropStartsOver) {
  int calls = 0;
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r, const BodySink* sink) -> absl::StatusOr<HttpResponse> {
    ++calls;
    if (calls == 1) {
      RETURN_IF_ERROR((*sink)(200, absl::string_view(kBlob).substr(0, 500)));
      return absl::UnavailableError("reset");
    }
    if (calls == 2) {
      // The server ignores the Range and sends it all, then drops again.
      EXPECT_EQ(HeaderOf(r, "Range"), "bytes=500-");
      RETURN_IF_ERROR((*sink)(200, absl::string_view(kBlob).substr(0, 900)));
      return absl::UnavailableError("reset");
    }
    // Range is used once only: the third try starts from the beginning.
    EXPECT_EQ(HeaderOf(r, "Range"), "");
    return Stream(200, kBlob, sink);
  });
  RegistryClient client(RegistryConfig{}, transport);
  TempDir dir;
  std::string dest = dir.path + "/blob";
  absl::Status s = client.FetchBlob(Ref("reg.example/app:1"), BlobDesc(), dest, {});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(*ReadFile(dest), kBlob);
  EXPECT_EQ(calls, 3);
}

TEST(RegistryClientTest, GivesUpAfterThreeRetries) {
  auto transport = std::make_shared<FakeTransport>(
      [&](const HttpRequest&, const BodySink*) -> absl::StatusOr<HttpResponse> { return absl::UnavailableError("refused"); });
  RegistryClient client(RegistryConfig{}, transport);
  TempDir dir;
  std::string dest = dir.path + "/blob";
  absl::Status s = client.FetchBlob(Ref("reg.example/app:1"), BlobDesc(), dest, {});
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find(BlobDesc().digest), std::string::npos) << s;
  EXPECT_EQ(transport->requests.size(), 4u);
  EXPECT_FALSE(PathExists(dest));
}

TEST(RegistryClientTest, DigestAndSizeMismatchDiscardTheBlob) {
  std::string served;
  auto transport = std::make_shared<FakeTransport>(
      [&](const HttpRequest&, const BodySink* sink) -> absl::StatusOr<HttpResponse> { return Stream(200, served, sink); });
  RegistryClient client(RegistryConfig{}, transport);
  TempDir dir;
  std::string dest = dir.path + "/blob";
  served = kBlob;
  served[5] = 'z';
  absl::Status s = client.FetchBlob(Ref("reg.example/app:1"), BlobDesc(), dest, {});
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("digest mismatch"), std::string::npos) << s;
  EXPECT_FALSE(PathExists(dest));
  served = kBlob + "extra";
  s = client.FetchBlob(Ref("reg.example/app:1"), BlobDesc(), dest, {});
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_FALSE(PathExists(dest));
  served = kBlob.substr(0, 10);
  s = client.FetchBlob(Ref("reg.example/app:1"), BlobDesc(), dest, {});
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(s.message().find("size mismatch"), std::string::npos) << s;
  EXPECT_FALSE(PathExists(dest));
}

}  // namespace
}  // namespace berth::image::registry
