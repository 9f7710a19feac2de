#include "agent/prober/testing/http_test_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace berth::agent::prober::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "TestHttpServer: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

SSL_CTX* MakeSelfSignedContext() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("probe-test"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    Die("TLS context");
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 307:
      return "Temporary Redirect";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

}  // namespace

TestHttpServer::TestHttpServer(Handler handler, bool tls) : handler_(std::move(handler)), tls_(tls) {
  if (tls_) ssl_ctx_ = MakeSelfSignedContext();
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("bind");
  if (listen(listen_fd_, 64) != 0) Die("listen");
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) Die("eventfd");
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

TestHttpServer::~TestHttpServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) < 0) Die("eventfd write");
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  close(listen_fd_);
  close(stop_fd_);
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::vector<RecordedRequest> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void TestHttpServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (fds[1].revents) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TestHttpServer::Serve(int fd) {
  timeval tv{10, 0};  // a client that never sends does not keep the test alive
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SSL* ssl = nullptr;
  if (tls_) {
    ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) <= 0) {
      SSL_free(ssl);
      close(fd);
      return;
    }
  }
  auto read_some = [&](char* buf, int n) { return ssl ? SSL_read(ssl, buf, n) : static_cast<int>(recv(fd, buf, n, 0)); };
  auto write_all = [&](const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      int n = ssl ? SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off))
                  : static_cast<int>(send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL));
      if (n <= 0) return;
      off += n;
    }
  };
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
    int n = read_some(buf, sizeof(buf));
    if (n <= 0) break;
    in.append(buf, n);
    if (!tls_ && static_cast<unsigned char>(in[0]) == 0x16) {
      // A TLS ClientHello on the plain port: answer in HTTP, as real servers do.
      write_all("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
      close(fd);
      return;
    }
  }
  size_t end = in.find("\r\n\r\n");
  if (end != std::string::npos) {
    RecordedRequest req;
    std::vector<std::string> lines = absl::StrSplit(in.substr(0, end), "\r\n");
    std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
    if (first.size() >= 2) {
      req.method = first[0];
      req.target = first[1];
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
      std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
      if (req.headers.count(name)) {
        req.headers[name] += ", " + value;
      } else {
        req.headers[name] = value;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    TestResponse resp = handler_(req);
    if (resp.hang) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_; });
    } else {
      std::string out = absl::StrCat("HTTP/1.1 ", resp.status, " ", Reason(resp.status), "\r\nContent-Length: ",
                                     resp.body.size(), "\r\nConnection: close\r\n");
      for (const auto& [k, v] : resp.headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
      absl::StrAppend(&out, "\r\n", resp.body);
      write_all(out);
    }
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  close(fd);
}

}  // namespace berth::agent::prober::testing
