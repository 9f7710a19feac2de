#include "agent/devices/registration_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "grpcpp/grpcpp.h"

namespace berth::agent::devices {

class RegistrationServer::Service final : public v1beta1::Registration::Service {
 public:
  explicit Service(Handler handler) : handler_(std::move(handler)) {}
  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* request, v1beta1::Empty*) override {
    absl::Status st = handler_(*request);
    if (st.ok()) return grpc::Status::OK;
    return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
  }

 private:
  Handler handler_;
};

absl::StatusOr<std::unique_ptr<RegistrationServer>> RegistrationServer::Start(const std::string& socket_path,
                                                                              Handler handler) {
  if (unlink(socket_path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("remove stale ", socket_path));
  }
  std::unique_ptr<RegistrationServer> server(new RegistrationServer());
  server->socket_path_ = socket_path;
  server->service_ = std::make_unique<Service>(std::move(handler));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (!server->server_) return absl::UnavailableError(absl::StrCat("cannot listen on ", socket_path));
  chmod(socket_path.c_str(), 0660);
  return server;
}

RegistrationServer::~RegistrationServer() { Stop(); }

void RegistrationServer::Stop() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
}

}  // namespace berth::agent::devices
