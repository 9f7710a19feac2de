// The agent's local HTTP endpoints (Boost.Beast, plain HTTP on the healthz
// address, 127.0.0.1:10248 by default): GET /healthz ("ok"), GET /pods (a
// v1 PodList of the agent's pods with their status, as the kubelet's
// read-only /pods serves it) and GET /events (text, one event a line).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace berth::agent {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Handles GET <target>; called on the server's thread.
using HttpHandler = std::function<HttpResponse(const std::string& method, const std::string& target)>;

class HttpServer {
 public:
  // Listens on address:port (port 0 picks one, see port()).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address, int port,
                                                           HttpHandler handler);
  ~HttpServer();
  int port() const { return port_; }
  void Stop();

 private:
  HttpServer() = default;
  void Run();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  HttpHandler handler_;
  int port_ = 0;
  std::thread thread_;
};

// GET http://host:port/target; the body, or an error naming the URL.
absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& target);

}  // namespace berth::agent
