// Pulls from a real registry: Debian's docker-registry (distribution v2) on
// 127.0.0.1, filled by the test through the push API with the busybox and
// pause images that hack/build-busybox-image.sh builds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <thread>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/image/registry/http_transport.h"
#include "runtime-shim/image/registry/puller.h"
#include "runtime-shim/image/registry/testing/local_registry.h"

extern char** environ;

namespace berth::image::registry {
namespace {

using nlohmann::json;

using testing::kRegistryBinary;

std::string MakeTempDir(const char* prefix) {
  std::string pattern = absl::StrCat("/tmp/", prefix, "-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  return ::mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
}

int RunCommand(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Thin adapters over the shared test support (testing/local_registry.h).
pid_t SpawnRegistry(const std::string& work, const std::string& name, const std::string& extra, std::string* host,
                    const std::string& tls_ca_file = "") {
  auto registry = testing::StartLocalRegistry(work, name, extra, tls_ca_file);
  if (!registry.ok()) return -1;
  *host = registry->host;
  return registry->pid;
}

void StopProcess(pid_t& pid) {
  testing::LocalRegistry registry{pid, ""};
  testing::StopLocalRegistry(registry);
  pid = registry.pid;
}

struct OciImage {
  std::string manifest_digest;
  std::string manifest;
  json parsed;
  std::string dir;  // the extracted layout
};

class PullerIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::access(kRegistryBinary, X_OK) != 0) return;
    work_ = MakeTempDir("berth-registry-it");
    ASSERT_FALSE(work_.empty());
    ASSERT_EQ(RunCommand({"/bin/bash", std::string(BERTH_SOURCE_DIR) + "/hack/build-busybox-image.sh", work_}), 0);
    for (const char* name : {"busybox", "pause"}) {
      std::string dir = absl::StrCat(work_, "/", name);
      ASSERT_TRUE(MkdirAll(dir).ok());
      ASSERT_EQ(RunCommand({"/bin/tar", "-C", dir, "-xf", absl::StrCat(work_, "/", name, ".tar")}), 0);
      json index = json::parse(*ReadFile(dir + "/index.json"));
      OciImage image;
      image.dir = dir;
      image.manifest_digest = index["manifests"][0]["digest"].get<std::string>();
      image.manifest = *ReadFile(BlobFile(image, image.manifest_digest));
      image.parsed = json::parse(image.manifest);
      images_[name] = image;
    }
    StartRegistry();
    ASSERT_GT(pid_, 0) << "docker-registry did not come up";
    transport_ = NewCurlTransport();
    PushImage(images_["busybox"], "library/busybox", "latest");
    PushImage(images_["pause"], "berth/pause", "1.0");
  }

  static void TearDownTestSuite() {
    StopRegistry();
    if (!work_.empty()) (void)RemoveAll(work_);
  }

  void SetUp() override {
    if (::access(kRegistryBinary, X_OK) != 0) GTEST_SKIP() << kRegistryBinary << " is not installed";
    ASSERT_GT(pid_, 0);
    store_dir_ = MakeTempDir("berth-registry-store");
    auto store = ImageStore::Open(store_dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    RegistryConfig config;
    config.hosts[host_].insecure = true;
    client_ = std::make_shared<RegistryClient>(config);
    client_->SetRequestHook([this](const HttpRequest& r) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(r.method + " " + r.url);
      if (on_request_) on_request_(r);
    });
    puller_ = std::make_unique<Puller>(store_.get(), client_);
  }

  void TearDown() override {
    puller_.reset();
    store_.reset();
    if (!store_dir_.empty()) (void)RemoveAll(store_dir_);
  }

  static std::string BlobFile(const OciImage& image, const std::string& digest) {
    return absl::StrCat(image.dir, "/blobs/sha256/", digest.substr(7));
  }

  static void StartRegistry() { pid_ = SpawnRegistry(work_, "plain", "", &host_); }
  static void StopRegistry() { StopProcess(pid_); }

  static void PushBlob(const std::string& repo, const std::string& digest, const std::string& content) {
    absl::Status pushed = testing::PushBlob(host_, repo, digest, content);
    ASSERT_TRUE(pushed.ok()) << pushed;
  }

  static void PushManifest(const std::string& repo, const std::string& tag, const std::string& media_type,
                           const std::string& body) {
    absl::Status pushed = testing::PushManifest(host_, repo, tag, media_type, body);
    ASSERT_TRUE(pushed.ok()) << pushed;
  }

  static void PushImage(const OciImage& image, const std::string& repo, const std::string& tag) {
    std::string config_digest = image.parsed["config"]["digest"].get<std::string>();
    PushBlob(repo, config_digest, *ReadFile(BlobFile(image, config_digest)));
    for (const json& layer : image.parsed["layers"]) {
      std::string digest = layer["digest"].get<std::string>();
      PushBlob(repo, digest, *ReadFile(BlobFile(image, digest)));
    }
    PushManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", image.manifest);
  }

  int CountRequests(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const std::string& r : requests_) n += r.find(needle) != std::string::npos;
    return n;
  }

  std::string LayerDigest() { return images_["busybox"].parsed["layers"][0]["digest"].get<std::string>(); }

  static inline std::string work_;
  static inline std::string host_;
  static inline pid_t pid_ = -1;
  static inline std::map<std::string, OciImage> images_;
  static inline std::shared_ptr<HttpTransport> transport_;

  std::string store_dir_;
  std::unique_ptr<ImageStore> store_;
  std::shared_ptr<RegistryClient> client_;
  std::unique_ptr<Puller> puller_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::function<void(const HttpRequest&)> on_request_;
};

TEST_F(PullerIntegrationTest, PullsBusyboxAndResolvesByNameAndRepoDigest) {
  std::string name = absl::StrCat(host_, "/library/busybox");
  auto image = puller_->Pull(name);
  ASSERT_TRUE(image.ok()) << image.status();
  const OciImage& oci = images_["busybox"];
  EXPECT_EQ(image->id, oci.parsed["config"]["digest"].get<std::string>());
  EXPECT_EQ(image->repo_tags, std::vector<std::string>{name + ":latest"});
  std::string repo_digest = absl::StrCat(name, "@", oci.manifest_digest);
  EXPECT_EQ(image->repo_digests, std::vector<std::string>{repo_digest});
  EXPECT_EQ(image->cmd, std::vector<std::string>{"sh"});

  for (const std::string& ref : {name, name + ":latest", repo_digest}) {
    auto resolved = store_->Resolve(ref);
    ASSERT_TRUE(resolved.ok()) << ref << ": " << resolved.status();
    EXPECT_EQ(resolved->id, image->id);
  }
  auto dirs = store_->LayerDirs(*image);
  ASSERT_TRUE(dirs.ok()) << dirs.status();
  ASSERT_EQ(dirs->size(), 1u);
  EXPECT_TRUE(PathExists((*dirs)[0] + "/bin/busybox"));
  EXPECT_EQ(CountRequests("/blobs/" + LayerDigest()), 1);
  // Nothing left in staging once the pull is done.
  puller_.reset();
  EXPECT_TRUE(ListDir(store_dir_ + "/tmp")->empty());

  // By digest alone: no tag recorded, the repo digest is.
  puller_ = std::make_unique<Puller>(store_.get(), client_);
  auto by_digest = puller_->Pull(repo_digest);
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->id, image->id);
  // The store survives a reopen with the pulled image.
  store_.reset();
  puller_.reset();
  auto reopened = ImageStore::Open(store_dir_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->Resolve(repo_digest).ok());
  EXPECT_TRUE(PathExists(absl::StrCat(store_dir_, "/blobs/sha256/", LayerDigest().substr(7))));
}

TEST_F(PullerIntegrationTest, SecondImageSharingTheLayerDownloadsNoLayer) {
  ASSERT_TRUE(puller_->Pull(absl::StrCat(host_, "/library/busybox:latest")).ok());
  EXPECT_EQ(CountRequests("/blobs/" + LayerDigest()), 1);
  auto pause = puller_->Pull(absl::StrCat(host_, "/berth/pause:1.0"));
  ASSERT_TRUE(pause.ok()) << pause.status();
  EXPECT_EQ(CountRequests("/blobs/" + LayerDigest()), 1);
  EXPECT_EQ(CountRequests("/berth/pause/blobs/"), 1);  // its config only
  EXPECT_EQ(store_->List().size(), 2u);
  auto dirs = store_->LayerDirs(*pause);
  ASSERT_TRUE(dirs.ok());
  EXPECT_TRUE(PathExists((*dirs)[0] + "/bin/busybox"));
}

TEST_F(PullerIntegrationTest, AddPulledTakesWhatAConcurrentPullMovedInAlready) {
  std::string name = absl::StrCat(host_, "/library/busybox");
  auto first = puller_->Pull(name + ":latest");
  ASSERT_TRUE(first.ok()) << first.status();
  // The staged files are gone (the other pull moved them in): the store's copies serve.
  const OciImage& oci = images_["busybox"];
  PulledImage again;
  again.name = name + ":again";
  again.repository = name;
  again.manifest_digest = oci.manifest_digest;
  again.manifests = {PulledBlob{oci.manifest_digest, store_dir_ + "/tmp/gone-manifest"}};
  again.config = PulledBlob{first->id, store_dir_ + "/tmp/gone-config"};
  again.layers = {BlobDescriptor{LayerDigest(), oci.parsed["layers"][0]["size"].get<int64_t>()}};
  bool fetched = false;
  auto image = store_->AddPulled(again, [&](const std::vector<BlobDescriptor>&)
                                             -> absl::StatusOr<std::map<std::string, std::string>> {
    fetched = true;
    return absl::InternalError("nothing should be fetched");
  });
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_FALSE(fetched);
  EXPECT_EQ(image->id, first->id);
  EXPECT_TRUE(store_->Resolve(name + ":again").ok());
  EXPECT_TRUE(store_->Resolve(name + ":latest").ok());
}

TEST_F(PullerIntegrationTest, ConcurrentPullsDownloadTheLayerOnce) {
  std::mutex m;
  std::condition_variable cv;
  int manifests = 0;
  on_request_ = [&](const HttpRequest& r) {
    std::unique_lock<std::mutex> lock(m);
    if (r.url.find("/manifests/") != std::string::npos) {
      ++manifests;
      cv.notify_all();
    } else if (r.url.find("/blobs/" + LayerDigest()) != std::string::npos) {
      // Hold the first layer download until the other pull is under way too:
      // it then joins this download, or (had it come later) takes the store's copy.
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return manifests >= 2; });
    }
  };
  std::string ref = absl::StrCat(host_, "/library/busybox:latest");
  absl::StatusOr<Image> a, b;
  std::thread ta([&] { a = puller_->Pull(ref); });
  std::thread tb([&] { b = puller_->Pull(ref); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(CountRequests("/blobs/" + LayerDigest()), 1);
  EXPECT_EQ(store_->List().size(), 1u);
}

TEST_F(PullerIntegrationTest, PicksThePlatformFromAnIndex) {
  const OciImage& busybox = images_["busybox"];
  const OciImage& pause = images_["pause"];
  // pause's manifest under a platform this node is not, busybox's under ours.
  PushImage(pause, "multi/app", "pause");
  PushImage(busybox, "multi/app", "busybox");
  Platform host = HostPlatform();
  json other_platform = {{"os", "linux"}, {"architecture", host.architecture == "s390x" ? "riscv64" : "s390x"}};
  json ours = {{"os", "linux"}, {"architecture", host.architecture}};
  if (!host.variant.empty()) ours["variant"] = host.variant;
  auto entry = [](const OciImage& image, const json& platform) {
    return json{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", image.manifest_digest},
                {"size", image.manifest.size()},
                {"platform", platform}};
  };
  std::string index =
      json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"},
           {"manifests", {entry(pause, other_platform), entry(busybox, ours)}}}.dump();
  PushManifest("multi/app", "1.0", "application/vnd.oci.image.index.v1+json", index);
  std::string other_only =
      json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"},
           {"manifests", {entry(pause, other_platform)}}}.dump();
  PushManifest("multi/app", "other", "application/vnd.oci.image.index.v1+json", other_only);

  std::string name = absl::StrCat(host_, "/multi/app");
  auto image = puller_->Pull(name + ":1.0");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->id, busybox.parsed["config"]["digest"].get<std::string>());
  // The repo digest is the index's.
  std::string repo_digest = absl::StrCat(name, "@", Sha256Digest(index));
  EXPECT_EQ(image->repo_digests, std::vector<std::string>{repo_digest});
  EXPECT_TRUE(store_->Resolve(repo_digest).ok());

  auto none = puller_->Pull(name + ":other");
  ASSERT_TRUE(absl::IsNotFound(none.status())) << none.status();
  EXPECT_NE(none.status().message().find(other_platform["architecture"].get<std::string>()), std::string::npos)
      << none.status();
  EXPECT_NE(none.status().message().find(name + ":other"), std::string::npos) << none.status();
}

TEST_F(PullerIntegrationTest, UnknownTagIsNotFoundNamingIt) {
  std::string ref = absl::StrCat(host_, "/library/busybox:no-such-tag");
  auto image = puller_->Pull(ref);
  ASSERT_TRUE(absl::IsNotFound(image.status())) << image.status();
  EXPECT_NE(image.status().message().find(ref), std::string::npos) << image.status();
  auto repo = puller_->Pull(absl::StrCat(host_, "/no/such/repo:1"));
  EXPECT_TRUE(absl::IsNotFound(repo.status())) << repo.status();
  EXPECT_TRUE(store_->List().empty());
}

TEST_F(PullerIntegrationTest, TamperedBlobFailsWithDigestErrorAndLeavesNoImage) {
  // An image of its own (busybox with one more label), so tampering touches no other test.
  const OciImage& busybox = images_["busybox"];
  json config = json::parse(*ReadFile(BlobFile(busybox, busybox.parsed["config"]["digest"].get<std::string>())));
  config["config"]["Labels"] = {{"berth.test", "tampered"}};
  std::string config_text = config.dump();
  std::string config_digest = Sha256Digest(config_text);
  json manifest = busybox.parsed;
  manifest["config"]["digest"] = config_digest;
  manifest["config"]["size"] = config_text.size();
  PushBlob("tamper/app", config_digest, config_text);
  PushBlob("tamper/app", LayerDigest(), *ReadFile(BlobFile(busybox, LayerDigest())));
  PushManifest("tamper/app", "1.0", "application/vnd.oci.image.manifest.v1+json", manifest.dump());

  // Same size, different bytes, straight into the registry's storage.
  std::string data = absl::StrCat(work_, "/storage/docker/registry/v2/blobs/sha256/", config_digest.substr(7, 2), "/",
                                  config_digest.substr(7), "/data");
  ASSERT_TRUE(PathExists(data)) << data;
  std::string wrong = config_text;
  wrong[wrong.size() - 2] = wrong[wrong.size() - 2] == 'x' ? 'y' : 'x';
  ASSERT_TRUE(AtomicWriteFile(data, wrong).ok());

  auto image = puller_->Pull(absl::StrCat(host_, "/tamper/app:1.0"));
  ASSERT_TRUE(absl::IsDataLoss(image.status())) << image.status();
  EXPECT_NE(image.status().message().find("digest mismatch"), std::string::npos) << image.status();
  EXPECT_NE(image.status().message().find(config_digest), std::string::npos) << image.status();
  EXPECT_NE(image.status().message().find(host_), std::string::npos) << image.status();
  EXPECT_TRUE(store_->List().empty());
  EXPECT_FALSE(PathExists(absl::StrCat(store_dir_, "/blobs/sha256/", config_digest.substr(7))));
  EXPECT_TRUE(ListDir(store_dir_ + "/blobs/sha256")->empty());
  EXPECT_TRUE(ListDir(store_dir_ + "/snapshots")->empty());
}


// Signs registry tokens (JWT, RS256, with the certificate in x5c) the way a
// docker-registry configured with `auth: token` accepts them.
class TokenSigner {
 public:
  // `ip_san`: also a TLS server certificate for that address.
  explicit TokenSigner(const std::string& ip_san = "") {
    key_ = EVP_RSA_gen(2048);
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 86400);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("berth-test-token"),
                               -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_, cert_, nullptr, nullptr, 0);
    std::vector<std::pair<int, std::string>> exts = {{NID_basic_constraints, "critical,CA:TRUE"}};
    if (!ip_san.empty()) exts.push_back({NID_subject_alt_name, "IP:" + ip_san});
    for (const auto& [nid, value] : exts) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      X509_add_ext(cert_, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert_, key_, EVP_sha256());
  }
  ~TokenSigner() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  std::string CertPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert_);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
  }

  std::string KeyPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(n));
    BIO_free(bio);
    return pem;
  }

  std::string Token(const json& claims) const {
    unsigned char* der = nullptr;
    int der_len = i2d_X509(cert_, &der);
    std::string x5c = absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(der_len)));
    OPENSSL_free(der);
    json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {x5c}}};
    std::string input = absl::StrCat(absl::WebSafeBase64Escape(header.dump()), ".",
                                     absl::WebSafeBase64Escape(claims.dump()));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t sig_len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &sig_len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(sig_len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(sig_len);
    return absl::StrCat(input, ".", absl::WebSafeBase64Escape(sig));
  }

 private:
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
};

std::string UrlDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

// A token server on 127.0.0.1: alice:secret gets pull on the scope asked,
// anyone else without credentials a token granting nothing, wrong
// credentials 401.
class TokenServer {
 public:
  TokenServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TokenServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string Realm() const { return absl::StrCat("http://127.0.0.1:", port_, "/token"); }
  int port() const { return port_; }
  const TokenSigner& signer() const { return signer_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
        pollfd cp{c, POLLIN, 0};
        if (::poll(&cp, 1, 2000) <= 0) break;
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      ++requests_;
      std::string reply = Answer(req);
      (void)!::write(c, reply.data(), reply.size());
      ::close(c);
    }
  }

  std::string Answer(const std::string& req) {
    std::string line = req.substr(0, req.find("\r\n"));
    std::string target = line.substr(line.find(' ') + 1);
    target = target.substr(0, target.find(' '));
    std::string scope;
    size_t q = target.find('?');
    if (q != std::string::npos) {
      for (absl::string_view kv : absl::StrSplit(target.substr(q + 1), '&')) {
        if (absl::ConsumePrefix(&kv, "scope=")) scope = UrlDecode(kv);
      }
    }
    std::string auth;
    for (absl::string_view h : absl::StrSplit(req, "\r\n")) {
      if (absl::StartsWithIgnoreCase(h, "authorization: ")) auth = std::string(h.substr(15));
    }
    json access = json::array();
    if (!auth.empty()) {
      if (auth != absl::StrCat("Basic ", absl::Base64Escape("alice:secret"))) {
        return "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      }
      // scope: repository:<name>:pull
      std::vector<std::string> parts = absl::StrSplit(scope, ':');
      if (parts.size() == 3) {
        access.push_back({{"type", parts[0]}, {"name", parts[1]}, {"actions", {"pull"}}});
      }
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    json claims = {{"iss", "berth-test-issuer"}, {"sub", auth.empty() ? "" : "alice"}, {"aud", "berth-test"},
                   {"exp", now + 600}, {"nbf", now - 60}, {"iat", now - 60},
                   {"jti", absl::StrCat("t", requests_.load())}, {"access", access}};
    std::string body = json{{"token", signer_.Token(claims)}, {"expires_in", 600}}.dump();
    return absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
                        "\r\nConnection: close\r\n\r\n", body);
  }

  TokenSigner signer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST_F(PullerIntegrationTest, BearerTokenAuthAgainstTheRegistry) {
  TokenServer tokens;
  ASSERT_GT(tokens.port(), 0);
  std::string bundle = absl::StrCat(work_, "/token-root.pem");
  ASSERT_TRUE(AtomicWriteFile(bundle, tokens.signer().CertPem()).ok());
  // A second registry over the same storage, this one demanding tokens.
  std::string auth_host;
  pid_t auth_pid = SpawnRegistry(work_, "auth", absl::StrCat("auth:\n  token:\n    realm: ", tokens.Realm(),
                                                             "\n    service: berth-test\n    issuer: berth-test-issuer\n"
                                                             "    rootcertbundle: ", bundle, "\n"),
                                 &auth_host);
  ASSERT_GT(auth_pid, 0) << "token-auth docker-registry did not come up";
  struct Stop {
    pid_t& pid;
    ~Stop() { StopProcess(pid); }
  } stop{auth_pid};

  RegistryConfig config;
  config.hosts[auth_host].insecure = true;
  auto client = std::make_shared<RegistryClient>(config);
  Puller puller(store_.get(), client);
  std::string ref = absl::StrCat(auth_host, "/library/busybox:latest");

  auto anonymous = puller.Pull(ref);
  ASSERT_TRUE(absl::IsUnauthenticated(anonymous.status())) << anonymous.status();
  EXPECT_NE(anonymous.status().message().find(auth_host), std::string::npos) << anonymous.status();

  auto wrong = puller.Pull(ref, Credentials{"alice", "wrong", ""});
  ASSERT_TRUE(absl::IsUnauthenticated(wrong.status())) << wrong.status();
  EXPECT_TRUE(store_->List().empty());

  int before = tokens.requests();
  auto image = puller.Pull(ref, Credentials{"alice", "secret", ""});
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(tokens.requests(), before + 1);  // one token, cached for the manifest and blobs
  EXPECT_EQ(image->id, images_["busybox"].parsed["config"]["digest"].get<std::string>());
  auto dirs = store_->LayerDirs(*image);
  ASSERT_TRUE(dirs.ok());
  EXPECT_TRUE(PathExists((*dirs)[0] + "/bin/busybox"));
}

TEST_F(PullerIntegrationTest, PullsOverTlsWithTheHostsCaFile) {
  TokenSigner server_cert("127.0.0.1");
  std::string cert = absl::StrCat(work_, "/tls-cert.pem"), key = absl::StrCat(work_, "/tls-key.pem");
  ASSERT_TRUE(AtomicWriteFile(cert, server_cert.CertPem()).ok());
  ASSERT_TRUE(AtomicWriteFile(key, server_cert.KeyPem(), 0600).ok());
  std::string tls_host;
  pid_t tls_pid = SpawnRegistry(work_, "tls", absl::StrCat("  tls:\n    certificate: ", cert, "\n    key: ", key, "\n"),
                                &tls_host, cert);
  ASSERT_GT(tls_pid, 0) << "TLS docker-registry did not come up";
  struct Stop {
    pid_t& pid;
    ~Stop() { StopProcess(pid); }
  } stop{tls_pid};
  std::string ref = absl::StrCat(tls_host, "/library/busybox:latest");

  // Without the CA file the certificate is not trusted, and plain HTTP is never tried.
  auto untrusting = std::make_shared<RegistryClient>(RegistryConfig{});
  auto refused = Puller(store_.get(), untrusting).Pull(ref);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find(tls_host), std::string::npos) << refused.status();

  RegistryConfig config;
  config.hosts[tls_host].ca_file = cert;
  auto client = std::make_shared<RegistryClient>(config);
  auto image = Puller(store_.get(), client).Pull(ref);
  ASSERT_TRUE(image.ok()) << image.status();
  auto dirs = store_->LayerDirs(*image);
  ASSERT_TRUE(dirs.ok());
  EXPECT_TRUE(PathExists((*dirs)[0] + "/bin/busybox"));
}

}  // namespace
}  // namespace berth::image::registry
