// CRI Exec, Attach and PortForward: validated here (the container runs, the
// sandbox is ready), then handed to the streaming server for a URL; and the
// StreamingRuntime the server calls back when a client connects: exec
// through `berth-shim exec`, attach through the shim's attach socket, ports
// dialled inside the pod's network namespace.
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/cri/runtime.h"
#include "runtime-shim/shim/shim_client.h"
#include "runtime-shim/streaming/netns_dial.h"
#include "runtime-shim/streaming/shim_exec.h"

namespace berth {

class Runtime::StreamingBackend final : public streaming::StreamingRuntime {
 public:
  explicit StreamingBackend(Runtime* runtime) : runtime_(runtime) {}

  absl::StatusOr<streaming::ExecProcess> StartExec(const std::string& container_id,
                                                   const std::vector<std::string>& cmd, bool tty, int stdin_fd,
                                                   int stdout_fd, int stderr_fd) override {
    ASSIGN_OR_RETURN(std::string id, runtime_->RunningContainer(container_id));
    return streaming::SpawnShimExec(runtime_->options_.shim_path, runtime_->BundleDir(id), cmd, tty, stdin_fd,
                                    stdout_fd, stderr_fd);
  }

  absl::StatusOr<int> ConnectAttach(const std::string& container_id) override {
    ASSIGN_OR_RETURN(std::string id, runtime_->RunningContainer(container_id));
    return ConnectAttachSocket(runtime_->BundleDir(id));
  }

  absl::StatusOr<int> DialPort(const std::string& sandbox_id, uint16_t port) override {
    ASSIGN_OR_RETURN(std::string netns, runtime_->ReadySandboxNetns(sandbox_id));
    return streaming::DialLoopbackInNetns(netns, port);
  }

 private:
  Runtime* runtime_;
};

absl::Status Runtime::StartStreaming() {
  streaming_backend_ = std::make_unique<StreamingBackend>(this);
  streaming::StreamingServerOptions options;
  options.address = options_.streaming_address;
  ASSIGN_OR_RETURN(streaming_, streaming::StreamingServer::Start(options, streaming_backend_.get()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> Runtime::RunningContainer(const std::string& id_or_prefix) {
  absl::Status status;
  auto c = FindContainer(id_or_prefix, &status);
  if (!c) return status;
  std::lock_guard<std::mutex> lock(mu_);
  if (c->state != cri::CONTAINER_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat("container ", c->id, " is not running"));
  }
  return c->id;
}

absl::StatusOr<std::string> Runtime::ReadySandboxNetns(const std::string& id_or_prefix) {
  absl::Status status;
  auto sandbox = FindSandbox(id_or_prefix, &status);
  if (!sandbox) return status;
  std::lock_guard<std::mutex> lock(mu_);
  if (sandbox->state != cri::SANDBOX_READY) {
    return absl::FailedPreconditionError(absl::StrCat("pod sandbox ", sandbox->id, " is not ready"));
  }
  auto net = sandbox->namespaces.find("net");
  return net == sandbox->namespaces.end() ? std::string() : net->second;  // "": host network
}

absl::Status Runtime::Exec(const cri::ExecRequest& req, cri::ExecResponse* resp) {
  if (!streaming_) return absl::UnavailableError("the streaming server is not running");
  if (req.container_id().empty()) return absl::InvalidArgumentError("container_id: required");
  ASSIGN_OR_RETURN(std::string id, RunningContainer(req.container_id()));
  cri::ExecRequest full = req;
  full.set_container_id(id);
  return streaming_->GetExec(full, resp);
}

absl::Status Runtime::Attach(const cri::AttachRequest& req, cri::AttachResponse* resp) {
  if (!streaming_) return absl::UnavailableError("the streaming server is not running");
  if (req.container_id().empty()) return absl::InvalidArgumentError("container_id: required");
  ASSIGN_OR_RETURN(std::string id, RunningContainer(req.container_id()));
  absl::Status status;
  auto c = FindContainer(id, &status);
  if (!c) return status;
  bool created_with_stdin, created_with_tty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    created_with_stdin = c->config.stdin();
    created_with_tty = c->config.tty();
  }
  if (req.stdin() && !created_with_stdin) {
    return absl::InvalidArgumentError(
        absl::StrCat("stdin: true, but container ", id, " was created without stdin"));
  }
  if (req.tty() != created_with_tty) {
    return absl::InvalidArgumentError(absl::StrCat("tty: ", req.tty() ? "true" : "false", ", but container ", id,
                                                   " was created with tty ", created_with_tty ? "true" : "false"));
  }
  cri::AttachRequest full = req;
  full.set_container_id(id);
  return streaming_->GetAttach(full, resp);
}

absl::Status Runtime::PortForward(const cri::PortForwardRequest& req, cri::PortForwardResponse* resp) {
  if (!streaming_) return absl::UnavailableError("the streaming server is not running");
  if (req.pod_sandbox_id().empty()) return absl::InvalidArgumentError("pod_sandbox_id: required");
  ASSIGN_OR_RETURN(std::string netns, ReadySandboxNetns(req.pod_sandbox_id()));
  (void)netns;
  absl::Status status;
  auto sandbox = FindSandbox(req.pod_sandbox_id(), &status);
  if (!sandbox) return status;
  cri::PortForwardRequest full = req;
  full.set_pod_sandbox_id(sandbox->id);
  return streaming_->GetPortForward(full, resp);
}

}  // namespace berth
