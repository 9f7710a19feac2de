// ExecSession: remotecommand over a ChannelTransport (a WebSocket or SPDY
// streams: channel_transport.h). Starts the command
// through StreamingRuntime::StartExec with pipes, or with a pty allocated
// here (the slave is the command's stdio; resize is TIOCSWINSZ on the
// master; Ctrl-C typed on stdin reaches the command through the pty's line
// discipline). stdout/stderr are forwarded as they come; stdin is written as
// it arrives and closed by the client's end of stdin (the v5 close message,
// or the SPDY stdin stream's FIN; ^D on a pty). When the
// command has exited and its output is drained, the error channel gets the
// Status (v4+: metav1.Status JSON; before v4: plain text on failure only) and
// the WebSocket is closed normally. A client that goes away early closes
// stdin and sends SIGHUP to the exec.
#pragma once

#include <sys/types.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "api/cri/api.pb.h"
#include "runtime-shim/streaming/channel_session.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming {

class ExecSession final : public ChannelSession {
 public:
  ExecSession(WebSocket ws, ChannelProtocol protocol, ::runtime::v1::ExecRequest request,
              StreamingRuntime* runtime);
  ExecSession(std::unique_ptr<ChannelTransport> transport, ::runtime::v1::ExecRequest request,
              StreamingRuntime* runtime);

 protected:
  void Begin() override;
  void OnFrame(ChannelFrame frame) override;
  void OnClientGone() override;

 private:
  struct Output {
    std::unique_ptr<asio::posix::stream_descriptor> fd;
    uint8_t channel = 0;
    bool forward = false;  // the client asked for this stream
    bool done = true;
    std::array<char, 32 * 1024> buffer;
  };
  void ReadOutput(Output* out);
  void WaitForExit();
  void OnExit();
  void MaybeFinish();
  void Finish();
  void CloseStdin();
  void Fail(const std::string& message);
  asio::posix::stream_descriptor* StdinWriter();

  ::runtime::v1::ExecRequest request_;
  StreamingRuntime* runtime_;
  pid_t pid_ = -1;
  int error_fd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> pidfd_;
  std::unique_ptr<asio::posix::stream_descriptor> stdin_;  // pipe write end (no tty)
  int pty_master_ = -1;                                   // owned by stdout_.fd with a tty
  Output stdout_;
  Output stderr_;
  std::unique_ptr<asio::steady_timer> drain_timer_;
  std::string stdin_data_;
  bool exited_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
  std::string start_error_;
};

}  // namespace berth::streaming
