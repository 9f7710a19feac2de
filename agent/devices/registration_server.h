// The device plugin Registration service (v1beta1) on a unix socket, the
// agent's kubelet.sock. Each Register call goes to `handler`; its error is
// the gRPC error the plugin sees (InvalidArgument, AlreadyExists, ...).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/deviceplugin/api.grpc.pb.h"

namespace grpc {
class Server;
}

namespace berth::agent::devices {

class RegistrationServer {
 public:
  using Handler = std::function<absl::Status(const v1beta1::RegisterRequest&)>;

  // Removes a stale socket at `socket_path`, listens there (mode 0660).
  static absl::StatusOr<std::unique_ptr<RegistrationServer>> Start(const std::string& socket_path, Handler handler);
  ~RegistrationServer();
  void Stop();

 private:
  class Service;
  RegistrationServer() = default;
  std::string socket_path_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace berth::agent::devices
