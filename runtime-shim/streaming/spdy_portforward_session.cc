#include "runtime-shim/streaming/spdy_portforward_session.h"

#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "runtime-shim/streaming/portforward_session.h"

namespace berth::streaming {

namespace asio = boost::asio;

SpdyPortForwardSession::SpdyPortForwardSession(std::shared_ptr<SpdyConnection> connection, std::string sandbox_id,
                                               StreamingRuntime* runtime)
    : connection_(std::move(connection)), sandbox_id_(std::move(sandbox_id)), runtime_(runtime) {}

void SpdyPortForwardSession::Run() { connection_->Start(this, shared_from_this()); }

void SpdyPortForwardSession::OnStream(std::shared_ptr<SpdyStream> stream) {
  std::string type = stream->header("streamtype");
  std::string port_text = stream->header("port");
  std::string request_id = stream->header("requestid");
  if (type != "data" && type != "error") {
    BERTH_LOG(Warning) << "spdy port-forward: refused a stream" << Kv("streamtype", type);
    return stream->Reset(SpdyRstStatus::kProtocolError);
  }
  if (request_id.empty()) {
    // Clients before requestID: the error stream comes right before its data stream.
    request_id = absl::StrCat(type == "error" ? stream->id() : stream->id() - 2);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
    BERTH_LOG(Warning) << "spdy port-forward: bad port header" << Kv("port", port_text);
    if (type == "error") {
      stream->Write(absl::StrCat("port: \"", port_text, "\" is not a port number (1-65535)"));
      stream->CloseSend();
    } else {
      stream->Reset(SpdyRstStatus::kProtocolError);
    }
    return;
  }
  auto& slot = forwards_[request_id];
  if (!slot) {
    slot = std::make_shared<Forward>();
    slot->request_id = request_id;
    slot->port = static_cast<uint16_t>(port);
  }
  std::shared_ptr<Forward> f = slot;
  auto& mine = type == "error" ? f->error : f->data;
  if (mine || f->port != port) {
    BERTH_LOG(Warning) << "spdy port-forward: refused a stream" << Kv("request", request_id)
                       << Kv("why", mine ? "a second " + type + " stream" : "another port than its pair");
    return stream->Reset(SpdyRstStatus::kProtocolError);
  }
  mine = std::move(stream);
  if (f->error && f->data) StartForward(f);
}

void SpdyPortForwardSession::StartForward(const std::shared_ptr<Forward>& f) {
  SpdyStream* error = f->error.get();
  error->SetReceiver([error](std::string data) { error->Consumed(data.size()); }, nullptr);
  auto fd = runtime_->DialPort(sandbox_id_, f->port);
  if (!fd.ok()) return EndForward(f, std::string(fd.status().message()));
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len);
  f->conn = std::make_unique<asio::ip::tcp::socket>(connection_->executor());
  boost::system::error_code ec;
  f->conn->assign(addr.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), *fd, ec);
  if (ec) {
    close(*fd);
    return EndForward(f, ec.message());
  }
  auto self = shared_from_this();
  f->data->SetReceiver(
      [self, f](std::string data) {
        if (f->ended) return f->data->Consumed(data.size());  // too late: dropped, but the window moves on
        f->to_pod.push_back(std::move(data));
        self->WritePod(f);
      },
      [self, f] {
        f->client_done = true;
        self->WritePod(f);  // half-closes the pod connection once what is queued is written
      });
  ReadPod(f);
}

void SpdyPortForwardSession::ReadPod(const std::shared_ptr<Forward>& f) {
  if (f->ended) return;
  auto self = shared_from_this();
  f->conn->async_read_some(asio::buffer(f->buffer), [self, f](boost::system::error_code ec, size_t n) {
    if (f->ended) return;
    if (ec || n == 0) {
      if (ec && ec != asio::error::eof) return self->EndForward(f, ec.message());
      f->pod_done = true;
      f->data->CloseSend();
      return self->MaybeEnd(f);
    }
    f->data->WriteBorrowed(absl::string_view(f->buffer.data(), n), [self, f] {
      if (f->ended) return;
      if (f->data->send_closed()) return self->EndForward(f, "");  // the client reset the stream
      self->ReadPod(f);
    });
  });
}

void SpdyPortForwardSession::WritePod(const std::shared_ptr<Forward>& f) {
  if (f->ended || f->writing || !f->conn) return;
  if (f->to_pod.empty()) {
    if (f->client_done) {
      boost::system::error_code ignored;
      f->conn->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      MaybeEnd(f);
    }
    return;
  }
  f->writing = true;
  auto self = shared_from_this();
  asio::async_write(*f->conn, asio::buffer(f->to_pod.front()), [self, f](boost::system::error_code ec, size_t) {
    f->writing = false;
    size_t n = f->to_pod.front().size();
    if (f->ended) return f->data->Consumed(n);
    if (ec) return self->EndForward(f, ec.message());
    f->to_pod.pop_front();
    f->data->Consumed(n);
    self->WritePod(f);
  });
}

void SpdyPortForwardSession::MaybeEnd(const std::shared_ptr<Forward>& f) {
  if (f->client_done && f->pod_done && f->to_pod.empty() && !f->writing) EndForward(f, "");
}

void SpdyPortForwardSession::EndForward(const std::shared_ptr<Forward>& f, const std::string& error) {
  if (f->ended) return;
  f->ended = true;
  if (!error.empty()) {
    BERTH_LOG(Info) << "spdy port-forward ended" << Kv("port", f->port) << Kv("request", f->request_id)
                    << Kv("error", error);
    f->error->Write(PortForwardError(f->port, sandbox_id_, error));
  }
  f->error->CloseSend();
  f->data->CloseSend();
  // What the pod will never get still counts against the connection's reading.
  size_t dropped = 0;
  for (size_t i = f->writing ? 1 : 0; i < f->to_pod.size(); ++i) dropped += f->to_pod[i].size();
  if (dropped > 0) f->data->Consumed(dropped);
  if (f->conn && f->conn->is_open()) {
    boost::system::error_code ignored;
    f->conn->close(ignored);
  }
  forwards_.erase(f->request_id);
  // The data stream's receiver holds `f`: let go of it once this call chain is done.
  asio::post(connection_->executor(), [f] {
    f->data->SetReceiver([data = f->data.get()](std::string bytes) { data->Consumed(bytes.size()); }, nullptr);
  });
}

void SpdyPortForwardSession::OnConnectionClosed() {
  for (auto& [id, f] : forwards_) {
    f->ended = true;
    if (f->conn && f->conn->is_open()) {
      boost::system::error_code ignored;
      f->conn->close(ignored);
    }
    // The data stream's receiver holds `f` and this session: let go.
    if (f->data) asio::post(connection_->executor(), [f] { f->data->SetReceiver(nullptr, nullptr); });
  }
  forwards_.clear();
}

}  // namespace berth::streaming
