// The API server's HTTPS listener: TLS 1.2+ (OpenSSL through Boost.Asio),
// optional client certificates verified against the client CA (a
// certificate from another CA fails the handshake, as with Go's
// VerifyClientCertIfGiven), HTTP/1.1 with keep-alive. Event-driven: one
// io_context run by a small pool of threads; handshakes, request reads and
// streamed (watch) writes are asynchronous, so an idle keep-alive connection
// or a watch waiting for events holds no thread. A handler runs on a pool
// thread for the length of one request; a watch hands its stream to the
// event loop (ResponseWriter::Continue) and is pumped when its events arrive.
// Requests over the body limit get 413 without being read.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/apiserver/authentication.h"

namespace berth::apiserver {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/api/v1/pods?watch=1"
  std::string path;    // percent-decoded path
  std::string query;   // raw query (after '?')
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::optional<UserInfo> certificate_user;  // from a verified client certificate
  std::string remote;                        // "127.0.0.1:51234"

  std::string Header(const std::string& lower_name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class StreamContinuation;

// How a handler answers: one Send, or BeginStream + WriteChunk... + EndStream.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void Send(int status, const Headers& headers, std::string body) = 0;
  // Chunked response; false once the client is gone.
  virtual bool BeginStream(int status, const Headers& headers) = 0;
  virtual bool WriteChunk(absl::string_view data) = 0;
  virtual void EndStream() = 0;
  // Whether the client closed its side or sent anything (a watch's client
  // sends nothing until it goes); checked without blocking.
  virtual bool ClientGone() = 0;
  // After BeginStream: hands the stream to the server's event loop, which
  // pumps it after the handler returns. False when this writer cannot (the
  // handler keeps driving the stream and ends it itself).
  virtual bool Continue(std::shared_ptr<StreamContinuation> /*stream*/) { return false; }
};

// The rest of a streamed response after its handler returned (a watch): the
// server calls Pump on its event loop whenever the wake function it gave
// SetWake is called, and at least once a second, until Pump returns false;
// then it ends the stream.
class StreamContinuation {
 public:
  virtual ~StreamContinuation() = default;
  // Takes the server's wake function (callable from any thread, even with
  // locks held: it only schedules a Pump). False when this stream cannot be
  // event-driven (the handler then drives it itself).
  virtual bool SetWake(std::function<void()> wake) = 0;
  // Writes what is ready without blocking (WriteChunk on `writer`); false
  // once the stream is over.
  virtual bool Pump(ResponseWriter& writer) = 0;
};

using RequestHandler = std::function<void(const HttpRequest&, ResponseWriter&)>;

struct HttpsServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 6443;  // 0 picks a free one
  std::string cert_file, key_file;
  std::string client_ca_file;  // empty: no client certificates
  size_t max_body_bytes = 3 * 1024 * 1024;
  size_t max_connections = 4096;
  // Threads running the event loop and the handlers (a handler holds one for
  // the length of its request, not of its connection).
  int threads = 8;
};

class HttpsServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpsServer>> Start(const HttpsServerOptions& options,
                                                            RequestHandler handler);
  ~HttpsServer();  // stops listening, closes connections, joins the pool

  int port() const;
  size_t connections() const;

  struct Impl;

 private:
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::apiserver
