#include "runtime-shim/streaming/portforward_session.h"

#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"

namespace berth::streaming {

PortForwardSession::PortForwardSession(WebSocket ws, ChannelProtocol protocol, std::string sandbox_id,
                                       std::vector<uint16_t> ports, StreamingRuntime* runtime)
    : ChannelSession(std::move(ws), protocol), sandbox_id_(std::move(sandbox_id)), runtime_(runtime) {
  for (uint16_t port : ports) {
    auto f = std::make_unique<Forward>();
    f->port = port;
    forwards_.push_back(std::move(f));
  }
}

void PortForwardSession::Begin() {
  for (size_t i = 0; i < forwards_.size(); ++i) {
    std::string prefix = PortPrefix(forwards_[i]->port);
    Send(static_cast<uint8_t>(2 * i), prefix);
    Send(static_cast<uint8_t>(2 * i + 1), prefix);
  }
  dialing_ = true;  // no close while later ports are still to be dialled
  for (size_t i = 0; i < forwards_.size(); ++i) {
    Forward& f = *forwards_[i];
    auto fd = runtime_->DialPort(sandbox_id_, f.port);
    if (!fd.ok()) {
      EndForward(i, std::string(fd.status().message()));
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len);
    f.conn = std::make_unique<asio::ip::tcp::socket>(executor());
    boost::system::error_code ec;
    f.conn->assign(addr.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), *fd, ec);
    if (ec) {
      close(*fd);
      EndForward(i, ec.message());
      continue;
    }
    f.open = true;
    ReadPod(i);
  }
  dialing_ = false;
  MaybeClose();
}

void PortForwardSession::ReadPod(size_t index) {
  auto self = std::static_pointer_cast<PortForwardSession>(shared_from_this());
  Forward* f = forwards_[index].get();
  f->buffer[0] = static_cast<char>(2 * index);
  f->conn->async_read_some(asio::buffer(f->buffer.data() + 1, f->buffer.size() - 1),
                           [self, f, index](boost::system::error_code ec, size_t n) {
    if (ec || n == 0) {
      self->EndForward(index, ec && ec != asio::error::eof && ec != asio::error::operation_aborted
                                  ? ec.message()
                                  : "");
      return;
    }
    auto next = [self, f, index] {
      if (f->open && !self->client_gone()) self->ReadPod(index);
    };
    if (self->protocol().encoding == ChannelEncoding::kBinary) {
      self->SendFrame(absl::string_view(f->buffer.data(), n + 1), std::move(next));
    } else {
      self->Send(static_cast<uint8_t>(2 * index), absl::string_view(f->buffer.data() + 1, n), std::move(next));
    }
  });
}

void PortForwardSession::EndForward(size_t index, const std::string& error) {
  Forward& f = *forwards_[index];
  if (!error.empty()) {
    Send(static_cast<uint8_t>(2 * index + 1), PortForwardError(f.port, sandbox_id_, error));
  }
  bool was_open = f.open;
  f.open = false;
  if (f.conn && f.conn->is_open()) {
    boost::system::error_code ignored;
    f.conn->close(ignored);
  }
  if (was_open || !error.empty()) MaybeClose();
}

void PortForwardSession::MaybeClose() {
  if (dialing_) return;
  for (const auto& f : forwards_) {
    if (f->open) return;
  }
  CloseWhenSent();
}

void PortForwardSession::OnFrame(ChannelFrame frame) {
  size_t index = frame.channel / 2;
  if (frame.channel % 2 != 0 || index >= forwards_.size() || !forwards_[index]->open || frame.data.empty()) {
    return ReadNext();
  }
  pending_write_ = std::move(frame.data);
  auto self = std::static_pointer_cast<PortForwardSession>(shared_from_this());
  asio::async_write(*forwards_[index]->conn, asio::buffer(pending_write_),
                    [self, index](boost::system::error_code ec, size_t) {
                      if (ec && ec != asio::error::operation_aborted) self->EndForward(index, ec.message());
                      self->ReadNext();
                    });
}

void PortForwardSession::OnClientGone() {
  for (auto& f : forwards_) {
    f->open = false;
    if (f->conn && f->conn->is_open()) {
      boost::system::error_code ignored;
      f->conn->close(ignored);
    }
  }
}

std::string PortForwardError(uint16_t port, const std::string& sandbox_id, absl::string_view error) {
  return absl::StrCat("error forwarding port ", port, " to pod ", sandbox_id, ": ", error);
}

absl::StatusOr<std::vector<uint16_t>> ParsePortForwardPorts(absl::string_view query) {
  std::vector<uint16_t> ports;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first != "port") continue;
    for (absl::string_view value : absl::StrSplit(kv.second, ',')) {
      uint32_t port = 0;
      if (!absl::SimpleAtoi(value, &port) || port == 0 || port > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("port: \"", value, "\" is not a port number (1-65535)"));
      }
      ports.push_back(static_cast<uint16_t>(port));
    }
  }
  if (ports.empty()) return absl::InvalidArgumentError("port: at least one port parameter is required");
  return ports;
}

}  // namespace berth::streaming
