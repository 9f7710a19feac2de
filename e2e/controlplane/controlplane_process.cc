#include "e2e/controlplane/controlplane_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "controlplane/store/testing/etcd_process.h"
#include "e2e/runtime_under_test.h"

namespace berth::e2e {

std::string ControlPlaneBinary() {
#ifdef BERTH_CONTROLPLANE_PATH
  return BERTH_CONTROLPLANE_PATH;
#else
  return "berth-controlplane";
#endif
}

absl::StatusOr<std::string> Kubectl(const std::string& kubeconfig, const std::vector<std::string>& args,
                                    absl::Duration timeout) {
  std::vector<std::string> argv = {"/usr/bin/kubectl", "--kubeconfig", kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string home = kubeconfig.substr(0, kubeconfig.rfind('/'));
  return RunCommand(argv, timeout, {"HOME=" + home, "KUBECACHEDIR=" + home + "/kube-cache"});
}

absl::StatusOr<std::unique_ptr<ControlPlaneProcess>> ControlPlaneProcess::Start(const ControlPlaneOptions& options) {
  auto cp = std::unique_ptr<ControlPlaneProcess>(new ControlPlaneProcess());
  cp->options_ = options;
  cp->pki_ = options.root + "/pki";
  cp->log_ = options.root + "/controlplane.log";
  if (cp->options_.store_url.empty()) cp->options_.store_url = "sqlite://" + options.root + "/cp.db";
  if (!PathExists(cp->pki_ + "/ca.crt")) {
    RETURN_IF_ERROR(MkdirAll(cp->pki_));
    RETURN_IF_ERROR(
        RunCommand({"/bin/sh", SourceDir() + "/e2e/controlplane/make_test_pki.sh", cp->pki_}, absl::Seconds(60))
            .status());
  }
  ASSIGN_OR_RETURN(cp->port_, store::testing::FreeLoopbackPort());
  RETURN_IF_ERROR(cp->Spawn());
  return cp;
}

absl::Status ControlPlaneProcess::Spawn() {
  std::vector<std::string> args = {ControlPlaneBinary(),
                                   "--bind-address", "127.0.0.1",
                                   "--secure-port", std::to_string(port_),
                                   "--tls-cert-file", pki_ + "/server.crt",
                                   "--tls-private-key-file", pki_ + "/server.key",
                                   "--client-ca-file", pki_ + "/ca.crt",
                                   "--store", options_.store_url};
  args.insert(args.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  // Ready once it accepts TCP connections (it listens only after the store,
  // the watch caches and the system namespaces are ready).
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("berth-controlplane exited: ", LogTail()));
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool up = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(s);
    if (up) return absl::OkStatus();
    usleep(20 * 1000);
  }
  return absl::DeadlineExceededError(absl::StrCat("berth-controlplane did not listen in 30s: ", LogTail()));
}

void ControlPlaneProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (!WaitForPidExit(pid_, absl::Seconds(10)).ok()) kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::Status ControlPlaneProcess::Restart() {
  Stop();
  return Spawn();
}

ControlPlaneProcess::~ControlPlaneProcess() { Stop(); }

std::string ControlPlaneProcess::server() const { return absl::StrCat("https://127.0.0.1:", port_); }

absl::StatusOr<std::string> ControlPlaneProcess::Kubeconfig(const std::string& user) {
  std::string dir = absl::StrCat(options_.root, "/home-", user);
  RETURN_IF_ERROR(MkdirAll(dir));
  std::string path = dir + "/kubeconfig";
  std::string text = absl::StrCat(
      "apiVersion: v1\nkind: Config\nclusters:\n- name: berth\n  cluster:\n    server: ", server(),
      "\n    certificate-authority: ", pki_, "/ca.crt\nusers:\n- name: ", user, "\n  user:\n    client-certificate: ",
      pki_, "/", user, ".crt\n    client-key: ", pki_, "/", user, ".key\ncontexts:\n- name: berth\n  context:\n",
      "    cluster: berth\n    user: ", user, "\n    namespace: default\ncurrent-context: berth\n");
  RETURN_IF_ERROR(AtomicWriteFile(path, text, 0600));
  return path;
}

std::string ControlPlaneProcess::LogTail() const {
  auto text = ReadFile(log_);
  if (!text.ok()) return "(no log)";
  return text->size() > 3000 ? text->substr(text->size() - 3000) : *text;
}

}  // namespace berth::e2e
