// AttachSession: remotecommand attach over a ChannelTransport (a WebSocket or
// SPDY streams: channel_transport.h). Connects to
// the container's attach socket in its shim (StreamingRuntime::ConnectAttach,
// framing in runtime-shim/shim/attach_protocol.h): the container's stdout and
// stderr go to channels 1 and 2 as they come (only those the request asked
// for), channel 0 goes to the container's stdin (when requested), resize
// (channel 4) to the container's tty, and the client's end of stdin (v5
// close message, SPDY stdin FIN), or the client leaving with stdin attached,
// closes stdin (which closes the
// container's stdin when it was created with stdinOnce). When the container
// exits the shim ends the connection and the error channel gets Success; a
// client that leaves (detach) leaves the container running. Same transport
// shape as ExecSession: Begin / OnFrame / OnClientGone on a ChannelSession.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "api/cri/api.pb.h"
#include "runtime-shim/streaming/channel_session.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming {

class AttachSession final : public ChannelSession {
 public:
  AttachSession(WebSocket ws, ChannelProtocol protocol, ::runtime::v1::AttachRequest request,
                StreamingRuntime* runtime);
  AttachSession(std::unique_ptr<ChannelTransport> transport, ::runtime::v1::AttachRequest request,
                StreamingRuntime* runtime);

 protected:
  void Begin() override;
  void OnFrame(ChannelFrame frame) override;
  void OnClientGone() override;

 private:
  void ReadShim();
  // Forwards the complete frames in shim_input_, then reads on.
  void ForwardShimFrames();
  // Writes one frame (kind, payload) to the shim, then reads the next client frame.
  void WriteToShim(uint8_t kind, std::string payload);
  void Finish(const std::string& error);

  ::runtime::v1::AttachRequest request_;
  StreamingRuntime* runtime_;
  std::unique_ptr<asio::posix::stream_descriptor> shim_;
  std::array<char, 64 * 1024> read_buffer_;
  std::string shim_input_;   // bytes from the shim not yet forwarded
  std::string shim_output_;  // the frame being written to the shim
  bool stdin_closed_ = false;
  bool finished_ = false;
};

}  // namespace berth::streaming
