// A small synchronous SPDY/3.1 client for the runtime's streaming server,
// speaking what kubectl and the API server speak to a kubelet: an HTTP/1.1
// upgrade to SPDY/3.1 with X-Stream-Protocol-Version offers, then streams
// the client opens (SYN_STREAM) with a `streamtype` header (remotecommand:
// error, stdin, stdout, stderr, resize; port-forward: error and data with
// `port` and `requestid`). Framing from runtime-shim/streaming/spdy_frame.h.
//
// With flow control on (the default), it holds its DATA to the server's
// windows and sends WINDOW_UPDATEs for what it reads; off, it behaves like
// moby/spdystream (kubectl): no windows either way. Every call is bounded
// in time.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "e2e/streaming/stream_client.h"
#include "runtime-shim/streaming/spdy_frame.h"

namespace berth::e2e {

struct SpdyClientOptions {
  bool flow_control = true;
  // Our receive window per stream (SETTINGS INITIAL_WINDOW_SIZE when not
  // 64 KiB; the connection window grows by as much).
  uint32_t receive_window = streaming::kSpdyInitialWindow;
};

class SpdyClient {
 public:
  // Upgrades `url` offering `protocols` (one X-Stream-Protocol-Version
  // header each, none when empty). A refused upgrade is FailedPrecondition
  // "HTTP <status>: <body>".
  static absl::StatusOr<std::unique_ptr<SpdyClient>> Connect(const std::string& url,
                                                             const std::vector<std::string>& protocols,
                                                             SpdyClientOptions options = {},
                                                             absl::Duration timeout = absl::Seconds(10));
  ~SpdyClient();

  // The X-Stream-Protocol-Version of the 101 ("" when none).
  const std::string& protocol() const { return protocol_; }

  // Opens a stream (the next odd id) with `headers`; does not wait for the reply.
  absl::StatusOr<uint32_t> OpenStream(const streaming::SpdyHeaders& headers, bool fin = false);
  // DATA on `stream` (several frames if the windows ask), FIN with the last.
  absl::Status Send(uint32_t stream, absl::string_view data, bool fin = false);
  // Bytes as they are, for malformed-input tests.
  absl::Status SendRaw(absl::string_view bytes);

  // The next frame from the server. OutOfRange once it closed the connection.
  absl::StatusOr<streaming::SpdyFrame> Next(absl::Duration timeout = absl::Seconds(30));

  // Closes the socket.
  void Close();

  // WINDOW_UPDATEs the server sent (flow control tests).
  int window_updates_received() const { return window_updates_; }

  struct Impl;

 private:
  explicit SpdyClient(std::unique_ptr<Impl> impl);
  absl::StatusOr<streaming::SpdyFrame> ReadFrame(absl::Duration timeout);
  absl::Status Write(const std::string& bytes);
  void Account(const streaming::SpdyFrame& frame);

  std::unique_ptr<Impl> impl_;
  SpdyClientOptions options_;
  std::string protocol_;
  uint32_t next_stream_id_ = 1;
  std::deque<streaming::SpdyFrame> backlog_;  // read while waiting for a window
  std::map<uint32_t, int64_t> send_windows_;
  int64_t session_send_window_ = streaming::kSpdyInitialWindow;
  std::map<uint32_t, uint32_t> unacknowledged_;
  uint32_t session_unacknowledged_ = 0;
  int window_updates_ = 0;
};

// remotecommand over SPDY: the streams kubectl opens (error, then stdin,
// stdout, stderr, resize as asked), by streamtype.
struct SpdyExecStreams {
  std::map<std::string, uint32_t> ids;
  uint32_t id(const std::string& type) const {
    auto it = ids.find(type);
    return it == ids.end() ? 0 : it->second;
  }
};
absl::StatusOr<SpdyExecStreams> OpenSpdyExecStreams(SpdyClient& client, bool stdin, bool stdout, bool stderr,
                                                    bool resize);

// Reads until the server's GOAWAY or close: stdout, stderr, the error
// stream, and the exit code (0 for a v4 Success, its ExitCode cause, or
// "command terminated with non-zero exit code: N" before v4; -1 otherwise).
absl::StatusOr<ExecOutcome> CollectSpdyExec(SpdyClient& client, const SpdyExecStreams& streams,
                                            absl::Duration timeout);

// Port-forward: the error stream then the data stream of one request.
struct SpdyForward {
  uint32_t error = 0;
  uint32_t data = 0;
};
absl::StatusOr<SpdyForward> OpenSpdyForward(SpdyClient& client, uint16_t port, const std::string& request_id);

}  // namespace berth::e2e
