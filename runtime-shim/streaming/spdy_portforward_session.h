// SpdyPortForwardSession: the kubelet's SPDY port-forward
// (portforward.k8s.io). For each connection it wants, the client opens two
// streams sharing a `requestid` header and naming the pod `port`: an error
// stream (streamtype error) then a data stream (streamtype data); clients
// that send no requestid pair a data stream with the error stream two ids
// before it. Once both are there, a TCP connection is dialled to the port on
// the pod's loopback (StreamingRuntime::DialPort) and bytes flow both ways:
// pod data goes out as DATA on the data stream (256 KiB reads, written
// without a copy), client DATA is written to the pod connection and
// acknowledged (WINDOW_UPDATE) once written; the client's FIN half-closes
// the pod connection, the pod's EOF ends the data stream. A port nobody
// listens on gets "error forwarding port N to pod ID: ..." on its error
// stream and both streams end; the other requests go on. Any number of
// ports and requests share one connection, which lasts until the client
// closes it.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "runtime-shim/streaming/spdy_connection.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming {

class SpdyPortForwardSession final : public SpdyConnectionHandler,
                                     public std::enable_shared_from_this<SpdyPortForwardSession> {
 public:
  SpdyPortForwardSession(std::shared_ptr<SpdyConnection> connection, std::string sandbox_id,
                         StreamingRuntime* runtime);

  void Run();

  void OnStream(std::shared_ptr<SpdyStream> stream) override;
  void OnConnectionClosed() override;

 private:
  struct Forward {
    std::string request_id;
    uint16_t port = 0;
    std::shared_ptr<SpdyStream> error;
    std::shared_ptr<SpdyStream> data;
    std::unique_ptr<boost::asio::ip::tcp::socket> conn;
    std::deque<std::string> to_pod;  // client data not yet written to the pod
    bool writing = false;
    bool client_done = false;  // the client's FIN (or reset) on the data stream
    bool pod_done = false;     // the pod's EOF, sent on as the data stream's FIN
    bool ended = false;
    std::array<char, 256 * 1024> buffer;
  };
  void StartForward(const std::shared_ptr<Forward>& f);
  void ReadPod(const std::shared_ptr<Forward>& f);
  void WritePod(const std::shared_ptr<Forward>& f);
  void EndForward(const std::shared_ptr<Forward>& f, const std::string& error);
  void MaybeEnd(const std::shared_ptr<Forward>& f);

  std::shared_ptr<SpdyConnection> connection_;
  std::string sandbox_id_;
  StreamingRuntime* runtime_;
  std::map<std::string, std::shared_ptr<Forward>> forwards_;  // by request id
};

}  // namespace berth::streaming
