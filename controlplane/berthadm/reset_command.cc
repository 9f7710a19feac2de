// `berthadm reset`: undoes what init made on this host, and only that: the
// control plane's static pod manifest (the agent then stops the pod; reset
// waits until its port is closed), the control plane's data dir, the image
// archive init put in the agent's import dir, the PKI files and the
// kubeconfigs init wrote. Other files in those directories stay, and a
// directory is removed only when it is left empty.
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/k8s/codec.h"
#include "common/fs.h"
#include "controlplane/berthadm/berthadm_cli.h"
#include "controlplane/berthadm/kubeconfig.h"
#include "controlplane/berthadm/pki.h"

namespace berth::berthadm {
namespace {

constexpr char kManifest[] = "berth-controlplane.yaml";
constexpr char kImageArchive[] = "berth-controlplane.tar";

// The --secure-port the manifest gives the control plane (0 when none).
int SecurePortOf(const std::string& manifest_text) {
  auto docs = k8s::YamlToJson(manifest_text);
  if (!docs.ok() || docs->empty()) return 0;
  const auto& pod = (*docs)[0];
  if (!pod.contains("spec") || !pod["spec"].contains("containers")) return 0;
  for (const auto& c : pod["spec"]["containers"]) {
    for (const auto& arg : c.value("command", nlohmann::json::array())) {
      std::string text = arg.is_string() ? arg.get<std::string>() : "";
      int port = 0;
      if (absl::StartsWith(text, "--secure-port=") && absl::SimpleAtoi(text.substr(14), &port)) return port;
    }
  }
  return 0;
}

bool Listening(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return open;
}

// Removes `path` when it exists; counts what failed.
void RemovePath(const std::string& path, bool recursive, int& failures) {
  if (!PathExists(path)) return;
  absl::Status removed = recursive ? RemoveAll(path) : absl::OkStatus();
  if (!recursive && unlink(path.c_str()) != 0) removed = absl::InternalError(strerror(errno));
  if (!removed.ok()) {
    std::cerr << "[reset] Failed to remove " << path << ": " << removed.message() << "\n";
    ++failures;
    return;
  }
  std::cout << "[reset] Deleted " << path << "\n";
}

void RemoveDirIfEmpty(const std::string& dir) {
  auto entries = ListDir(dir);
  if (entries.ok() && entries->empty() && rmdir(dir.c_str()) == 0) std::cout << "[reset] Deleted " << dir << "\n";
}

}  // namespace

int Reset(const Flags& f) {
  int failures = 0;
  const std::string manifests = f.kubeconfig_dir + "/manifests";
  const std::string manifest = manifests + "/" + kManifest;
  auto text = ReadFile(manifest);
  int port = text.ok() ? SecurePortOf(*text) : 0;
  RemovePath(manifest, false, failures);
  if (port > 0) {
    std::cout << "[reset] Waiting for the agent to stop the control plane (port " << port << ")\n";
    absl::Time deadline = absl::Now() + absl::Seconds(90);
    while (Listening(port) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(200));
    if (Listening(port)) {
      std::cerr << "[reset] The control plane still listens on port " << port
                << " after 90 s (is berth-agent running and watching " << manifests << "?)\n";
      ++failures;
    }
  }
  RemoveDirIfEmpty(manifests);
  RemovePath(f.controlplane_data_dir, true, failures);
  RemovePath(f.image_import_dir + "/" + kImageArchive, false, failures);
  for (const std::string& name : ClusterPkiFileNames()) RemovePath(f.cert_dir + "/" + name, false, failures);
  RemoveDirIfEmpty(f.cert_dir);
  for (const auto& file : StandardKubeconfigs(f.node_name)) {
    RemovePath(f.kubeconfig_dir + "/" + file.file, false, failures);
  }
  if (failures > 0) return Fail(absl::StrCat("reset: ", failures, " thing(s) could not be removed (see above)"));
  std::cout << "[reset] The host no longer holds what berthadm init made. Other files in " << f.kubeconfig_dir
            << ", /etc/cni/net.d and elsewhere were left as they were.\n";
  return 0;
}

}  // namespace berth::berthadm
