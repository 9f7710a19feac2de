// A small HTTP/1.1 (or HTTPS, self-signed) server on 127.0.0.1 for the
// prober's and hook runner's tests: a handler decides each answer, every
// request is recorded, and an answer can be held back until the server stops
// (to test timeouts without sleeping).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace berth::agent::prober::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool hang = false;  // answer nothing until the server stops
};

class TestHttpServer {
 public:
  using Handler = std::function<TestResponse(const RecordedRequest&)>;

  // Listens on 127.0.0.1 at a free port; `tls` serves HTTPS with a fresh
  // self-signed certificate. Aborts the test binary when it cannot listen.
  TestHttpServer(Handler handler, bool tls = false);
  ~TestHttpServer();  // releases held answers, closes, joins every thread
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::vector<RecordedRequest> requests() const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  bool tls_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<RecordedRequest> requests_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace berth::agent::prober::testing
