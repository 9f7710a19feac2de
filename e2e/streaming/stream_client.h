// A small synchronous client for the runtime's streaming server, for the
// e2e tests, the streaming unit tests and the benchmark: WebSocket upgrade
// with channel.k8s.io subprotocols (Boost.Beast), channel frames in and
// out, and plain HTTP requests for the error cases. Every call is bounded in
// time; a timeout closes the connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime-shim/streaming/channel_codec.h"

namespace berth::e2e {

// http://host:port/path, split (an IPv6 host without its brackets).
struct StreamUrl {
  std::string host, port, target;
};
absl::StatusOr<StreamUrl> ParseStreamUrl(const std::string& url);

// A Beast/Asio error as a Status: DeadlineExceeded for a timeout,
// Unavailable otherwise, prefixed with `what`.
absl::Status FromBeast(const boost::system::error_code& ec, absl::string_view what);

struct HttpReply {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 GET of `url` (http://host:port/path) with extra headers
// ("Name: value"); the reply whatever its status.
absl::StatusOr<HttpReply> HttpGet(const std::string& url, const std::vector<std::string>& headers,
                                  absl::Duration timeout = absl::Seconds(10));

class StreamClient {
 public:
  // Upgrades `url` to a WebSocket offering `protocols` (in order). A refused
  // upgrade is FailedPrecondition "HTTP <status>: <body>".
  static absl::StatusOr<std::unique_ptr<StreamClient>> Connect(const std::string& url,
                                                               const std::vector<std::string>& protocols,
                                                               absl::Duration timeout = absl::Seconds(10));
  ~StreamClient();

  // The subprotocol the server chose ("" for none).
  const std::string& protocol() const { return protocol_; }

  // One message on `channel` in the negotiated encoding.
  absl::Status Send(uint8_t channel, absl::string_view data);
  // The v5 close message for `channel`.
  absl::Status SendClose(uint8_t channel) { return Send(streaming::kCloseChannel, std::string(1, char(channel))); }
  // {"Width":w,"Height":h} on the resize channel.
  absl::Status SendResize(int width, int height);

  // The next message. OutOfRange once the server has closed the WebSocket
  // (close_code() then holds its code); DeadlineExceeded after `timeout`.
  absl::StatusOr<streaming::ChannelFrame> Read(absl::Duration timeout = absl::Seconds(30));
  // Read into `frame`, reusing its data's storage (a loop then copies each
  // message once, into memory already mapped).
  absl::Status ReadInto(streaming::ChannelFrame& frame, absl::Duration timeout = absl::Seconds(30));
  // Read without a copy: the data points into the client's buffer and is
  // valid until the next call (a bulk reader such as the bench).
  struct ChannelView {
    uint8_t channel = 0;
    absl::string_view data;
  };
  absl::StatusOr<ChannelView> ReadView(absl::Duration timeout = absl::Seconds(30));

  // Sends a normal close and waits for the server's.
  absl::Status Close(absl::Duration timeout = absl::Seconds(5));

  int close_code() const { return close_code_; }

  struct Impl;

 private:
  explicit StreamClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string protocol_;
  streaming::ChannelEncoding encoding_ = streaming::ChannelEncoding::kBinary;
  int close_code_ = 0;
};

// What a remotecommand session delivered: stdout, stderr, the raw error
// channel, and the exit code read from it (0 for Success, the ExitCode
// cause for NonZeroExitCode, -1 for any other failure).
struct ExecOutcome {
  std::string stdout_data;
  std::string stderr_data;
  std::string error;
  int exit_code = -1;
};

// Reads every message until the server closes the WebSocket.
absl::StatusOr<ExecOutcome> CollectExec(StreamClient& client, absl::Duration timeout);

// The exit code of a v4+ error-channel Status (see ExecOutcome).
int ExitCodeFromStatus(const std::string& status_json);

}  // namespace berth::e2e
