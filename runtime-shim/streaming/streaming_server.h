// StreamingServer: the runtime's streaming HTTP server, shaped like the
// kubelet's. CRI Exec/Attach/PortForward requests are validated and cached
// under a random single-use token (token_cache.h) that expires after a
// minute; the CRI call answers with http://<address>/exec/<token> (or
// /attach/, /portforward/). A client then upgrades that URL to a WebSocket
// with a channel.k8s.io subprotocol (channel_codec.h), or to SPDY/3.1 with
// an X-Stream-Protocol-Version (spdy_channel_transport.h,
// spdy_portforward_session.h), and the session runs (exec_session.h,
// portforward_session.h) against StreamingRuntime.
//
// HTTP errors: 404 for an unknown, used or expired token (or a wrong path),
// 400 for a request that is no WebSocket or SPDY/3.1 upgrade or has bad port
// parameters, 403 for unsupported subprotocols or stream protocol versions.
// Each connection is independent: a bad one never stops the others.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/cri/api.pb.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming {

struct StreamingServerOptions {
  // "host:port" ("[::1]:0" for IPv6); port 0 picks a free one.
  std::string address = "127.0.0.1:0";
  absl::Duration token_ttl = absl::Minutes(1);
  size_t max_in_flight = 1000;
  int threads = 2;
  // SPDY remotecommand: how long the client has to open its streams.
  absl::Duration stream_creation_timeout = absl::Seconds(30);
  // Monotonic nanoseconds, for token expiry in tests; default the real clock.
  std::function<int64_t()> clock;
};

class StreamingServer {
 public:
  // Binds, listens and starts serving on its own threads.
  static absl::StatusOr<std::unique_ptr<StreamingServer>> Start(const StreamingServerOptions& options,
                                                                StreamingRuntime* runtime);
  ~StreamingServer();  // stops serving; open sessions end

  // The bound address, "127.0.0.1:43121".
  const std::string& address() const;

  // Validate the request (InvalidArgument naming the field), cache it and
  // fill the response's URL. Whether the container or sandbox exists and
  // runs is the caller's check (the runtime's).
  absl::Status GetExec(const ::runtime::v1::ExecRequest& req, ::runtime::v1::ExecResponse* resp);
  absl::Status GetAttach(const ::runtime::v1::AttachRequest& req, ::runtime::v1::AttachResponse* resp);
  absl::Status GetPortForward(const ::runtime::v1::PortForwardRequest& req,
                              ::runtime::v1::PortForwardResponse* resp);

  struct Impl;

 private:
  explicit StreamingServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::streaming
