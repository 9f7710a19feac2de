// A gRPC server with only gRPC's default health service (grpc.health.v1),
// for grpc probe tests: every other method answers UNIMPLEMENTED, as any
// gRPC server does for a service it lacks. gRPC adds its default health
// service only to a server that has a service of its own, hence the generic one.
#pragma once

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/health_check_service_interface.h"

namespace berth::agent::prober::testing {

class UnimplementedService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown service")); }
      void OnDone() override { delete this; }
    };
    return new Reactor;
  }
};

struct GrpcHealthServer {
  UnimplementedService generic;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  ~GrpcHealthServer() {
    if (server) server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
};

// Listens on `address` ("127.0.0.1:0"); `with_health` false: no health
// service at all. Null server on failure.
inline std::unique_ptr<GrpcHealthServer> StartGrpcHealthServer(const std::string& address, bool with_health = true) {
  auto out = std::make_unique<GrpcHealthServer>();
  grpc::EnableDefaultHealthCheckService(with_health);
  grpc::ServerBuilder builder;
  builder.RegisterCallbackGenericService(&out->generic);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &out->port);
  out->server = builder.BuildAndStart();
  grpc::EnableDefaultHealthCheckService(false);
  return out;
}

}  // namespace berth::agent::prober::testing
