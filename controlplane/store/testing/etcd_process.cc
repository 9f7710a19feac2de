#include "controlplane/store/testing/etcd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "api/etcd/rpc.grpc.pb.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::store::testing {

absl::StatusOr<int> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, "bind a free loopback port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

// True once etcd answers Maintenance.Status (the connection attempt waits
// for the listener; no sleeping).
bool Serving(const std::string& endpoint, absl::Time deadline) {
  auto channel = grpc::CreateChannel(absl::StrCat("ipv4:", endpoint),
                                     grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) return false;
  auto stub = etcdserverpb::Maintenance::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  ctx.set_wait_for_ready(true);
  etcdserverpb::StatusResponse resp;
  return stub->Status(&ctx, etcdserverpb::StatusRequest(), &resp).ok() && resp.leader() != 0;
}

std::string Tail(const std::string& path) {
  auto data = ReadFile(path);
  if (!data.ok()) return "(no log)";
  return data->size() > 2000 ? data->substr(data->size() - 2000) : *data;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::Spawn(
    const std::string& data_dir, const std::string& name, int client_port, int peer_port,
    const std::string& initial_cluster) {
  std::unique_ptr<EtcdProcess> p(new EtcdProcess());
  p->name_ = name;
  p->data_dir_ = data_dir;
  p->client_endpoint_ = absl::StrCat("127.0.0.1:", client_port);
  p->peer_url_ = absl::StrCat("http://127.0.0.1:", peer_port);
  p->log_path_ = absl::StrCat(data_dir, ".etcd.log");
  std::string client_url = absl::StrCat("http://", p->client_endpoint_);
  std::vector<std::string> argv = {
      kEtcdBinary,
      "--name=" + name,
      "--data-dir=" + data_dir,
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + p->peer_url_,
      "--initial-advertise-peer-urls=" + p->peer_url_,
      "--initial-cluster=" + initial_cluster,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=warn",
      "--experimental-watch-progress-notify-interval=2s",
  };
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork etcd");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int log = open(p->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  p->pid_ = pid;
  return p;
}

absl::Status EtcdProcess::WaitServing(absl::Time deadline) {
  while (absl::Now() < deadline) {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    if (Serving(client_endpoint_, std::min(deadline, absl::Now() + absl::Seconds(2)))) {
      return absl::OkStatus();
    }
  }
  return absl::UnavailableError(absl::StrCat("etcd ", name_, " on ", client_endpoint_,
                                             " did not come up; log tail:\n", Tail(log_path_)));
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::Start(const std::string& data_dir,
                                                                 const std::string& name) {
  if (access(kEtcdBinary, X_OK) != 0) {
    return absl::UnimplementedError(absl::StrCat(
        kEtcdBinary, " is absent (Debian package etcd-server): etcd tests skipped"));
  }
  absl::Status last = absl::OkStatus();
  // A port picked free can be taken before etcd binds it: a few attempts.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto client_port = FreeLoopbackPort();
    auto peer_port = FreeLoopbackPort();
    if (!client_port.ok()) return client_port.status();
    if (!peer_port.ok()) return peer_port.status();
    auto p = Spawn(data_dir, name, *client_port, *peer_port,
                   absl::StrCat(name, "=http://127.0.0.1:", *peer_port));
    if (!p.ok()) return p.status();
    last = (*p)->WaitServing(absl::Now() + absl::Seconds(60));
    if (last.ok()) return p;
    (*p)->Stop();
    RemoveAll(data_dir).IgnoreError();
  }
  return last;
}

absl::StatusOr<std::vector<std::unique_ptr<EtcdProcess>>> EtcdProcess::StartCluster(
    const std::string& root, int members) {
  if (access(kEtcdBinary, X_OK) != 0) {
    return absl::UnimplementedError(absl::StrCat(
        kEtcdBinary, " is absent (Debian package etcd-server): etcd tests skipped"));
  }
  std::vector<int> client_ports, peer_ports;
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    auto c = FreeLoopbackPort();
    auto p = FreeLoopbackPort();
    if (!c.ok()) return c.status();
    if (!p.ok()) return p.status();
    client_ports.push_back(*c);
    peer_ports.push_back(*p);
    peers.push_back(absl::StrCat("m", i, "=http://127.0.0.1:", *p));
  }
  const std::string initial_cluster = absl::StrJoin(peers, ",");
  std::vector<std::unique_ptr<EtcdProcess>> out;
  for (int i = 0; i < members; ++i) {
    auto p = Spawn(absl::StrCat(root, "/etcd-", i), absl::StrCat("m", i), client_ports[i],
                   peer_ports[i], initial_cluster);
    if (!p.ok()) return p.status();
    out.push_back(std::move(*p));
  }
  absl::Time deadline = absl::Now() + absl::Seconds(90);
  for (auto& p : out) RETURN_IF_ERROR(p->WaitServing(deadline));
  return out;
}

void EtcdProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    // Bounded wait for the exit; a pidfd would need Linux 5.3 headers here.
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
}

EtcdProcess::~EtcdProcess() { Stop(); }

}  // namespace berth::store::testing
