#include "runtime-shim/image/registry/testing/local_registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/registry/http_transport.h"

namespace berth::image::registry::testing {

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

void StopLocalRegistry(LocalRegistry& registry) {
  pid_t& pid = registry.pid;
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  // A registry exits within milliseconds of SIGTERM; this bounds a stuck one.
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) != 0) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

absl::StatusOr<LocalRegistry> StartLocalRegistry(const std::string& work, const std::string& name,
                                                 const std::string& extra, const std::string& tls_ca_file) {
  // A port found free can be taken before the registry binds it: retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    LocalRegistry registry;
    registry.host = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
    std::string config = absl::StrCat(work, "/", name, ".yml");
    RETURN_IF_ERROR(AtomicWriteFile(
        config, absl::StrCat("version: 0.1\n"
                             "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
                             "storage:\n  filesystem:\n    rootdirectory: ", work, "/storage\n"
                             "http:\n  addr: ", registry.host, "\n", extra)));
    std::string log = absl::StrCat(work, "/", name, ".log");
    std::vector<std::string> argv = {kRegistryBinary, "serve", config};
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return absl::InternalError("fork for docker-registry");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(kRegistryBinary, args.data());
      ::_exit(127);
    }
    registry.pid = pid;
    auto transport = NewCurlTransport();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      HttpRequest r;
      r.url = absl::StrCat(tls_ca_file.empty() ? "http://" : "https://", registry.host, "/v2/");
      r.ca_file = tls_ca_file;
      r.timeout_s = 2;
      auto resp = transport->Do(r, nullptr);
      if (resp.ok() && (resp->status == 200 || resp->status == 401)) return registry;
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {  // exited: port taken?
        registry.pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    StopLocalRegistry(registry);
  }
  return absl::UnavailableError(absl::StrCat("docker-registry did not come up; see ", work, "/", name, ".log"));
}

absl::Status PushBlob(const std::string& host, const std::string& repo, const std::string& digest,
                      const std::string& content) {
  auto transport = NewCurlTransport();
  HttpRequest post;
  post.method = "POST";
  post.url = absl::StrCat("http://", host, "/v2/", repo, "/blobs/uploads/");
  ASSIGN_OR_RETURN(auto resp, transport->Do(post, nullptr));
  if (resp.status != 202) return absl::InternalError(absl::StrCat("start upload: HTTP ", resp.status, " ", resp.body));
  std::string location = resp.Header("location");
  if (absl::StartsWith(location, "/")) location = absl::StrCat("http://", host, location);
  HttpRequest put;
  put.method = "PUT";
  put.url = absl::StrCat(location, location.find('?') == std::string::npos ? "?" : "&", "digest=", digest);
  put.headers = {"Content-Type: application/octet-stream"};
  put.body = content;
  ASSIGN_OR_RETURN(resp, transport->Do(put, nullptr));
  if (resp.status != 201) return absl::InternalError(absl::StrCat("put blob ", digest, ": HTTP ", resp.status, " ", resp.body));
  return absl::OkStatus();
}

absl::Status PushManifest(const std::string& host, const std::string& repo, const std::string& tag,
                          const std::string& media_type, const std::string& body) {
  auto transport = NewCurlTransport();
  HttpRequest put;
  put.method = "PUT";
  put.url = absl::StrCat("http://", host, "/v2/", repo, "/manifests/", tag);
  put.headers = {absl::StrCat("Content-Type: ", media_type)};
  put.body = body;
  ASSIGN_OR_RETURN(auto resp, transport->Do(put, nullptr));
  if (resp.status != 201) return absl::InternalError(absl::StrCat("put manifest ", repo, ":", tag, ": HTTP ", resp.status, " ", resp.body));
  return absl::OkStatus();
}

absl::StatusOr<std::string> PushOciLayout(const std::string& host, const std::string& layout_dir,
                                          const std::string& repo, const std::string& tag) {
  auto blob = [&](const std::string& digest) {
    return ReadFile(absl::StrCat(layout_dir, "/blobs/sha256/", digest.substr(7)));
  };
  ASSIGN_OR_RETURN(std::string index_text, ReadFile(layout_dir + "/index.json"));
  try {
    auto index = nlohmann::json::parse(index_text);
    std::string manifest_digest = index.at("manifests").at(0).at("digest").get<std::string>();
    ASSIGN_OR_RETURN(std::string manifest_text, blob(manifest_digest));
    auto manifest = nlohmann::json::parse(manifest_text);
    std::string config_digest = manifest.at("config").at("digest").get<std::string>();
    ASSIGN_OR_RETURN(std::string config, blob(config_digest));
    RETURN_IF_ERROR(PushBlob(host, repo, config_digest, config));
    for (const auto& layer : manifest.at("layers")) {
      std::string digest = layer.at("digest").get<std::string>();
      ASSIGN_OR_RETURN(std::string content, blob(digest));
      RETURN_IF_ERROR(PushBlob(host, repo, digest, content));
    }
    RETURN_IF_ERROR(PushManifest(host, repo, tag, "application/vnd.oci.image.manifest.v1+json", manifest_text));
    return manifest_digest;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("OCI layout ", layout_dir, ": ", e.what()));
  }
}

}  // namespace berth::image::registry::testing
